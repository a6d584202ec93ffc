import { MessageBody, SubscribeMessage } from '@nestjs/websockets';
import { IsIn, IsString, Length } from 'class-validator';
import { Conn, HubbubGateway, PushService, type Connection } from 'hubbub';

class VoteDto {
  @IsString() @Length(1, 64) poll!: string;
  @IsIn(['yes', 'no']) choice!: 'yes' | 'no';
}

/** The team's own event on Hubbub's socket: `poll.vote`, results pushed to everyone as `poll.results`. */
@HubbubGateway()
export class PollGateway {
  private readonly votes = new Map<string, Map<string, 'yes' | 'no'>>();

  constructor(private readonly push: PushService) {}

  @SubscribeMessage('poll.vote')
  async vote(@Conn() conn: Connection, @MessageBody() { poll, choice }: VoteDto) {
    let ballots = this.votes.get(poll);
    if (!ballots) this.votes.set(poll, (ballots = new Map()));
    ballots.set(conn.userId, choice);
    const results = { poll, yes: 0, no: 0 };
    for (const c of ballots.values()) results[c]++;
    await this.push.toAll('poll.results', results);
    return results;
  }
}
