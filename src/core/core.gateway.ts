import { MessageBody, SubscribeMessage } from '@nestjs/websockets';
import { AccessRecheck } from './access-recheck';
import { isAdmin } from '../auth/principal';
import { InvalidTokenError, TokenVerifier } from '../auth/token-verifier';
import { HubbubError } from '../protocol/errors';
import type { Connection } from '../ws/connection';
import { Conn, HubbubGateway } from '../ws/decorators';
import { BroadcastDto, RefreshDto } from './core.dto';
import { PushService } from '../fanout/push.service';
import { SessionExpiryService } from '../lifecycle/session-expiry.service';
import { StatsService, type ServerStats } from './stats.service';

/**
 * Events every connection has, whatever else it does: token refresh, stats, admin broadcast. (`ping` is a protocol
 * frame the FrameRouter answers itself.)
 */
@HubbubGateway()
export class CoreGateway {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly expiry: SessionExpiryService,
    private readonly push: PushService,
    private readonly statsService: StatsService,
    private readonly recheck: AccessRecheck,
  ) {}

  @SubscribeMessage('auth.refresh')
  async refresh(
    @Conn() conn: Connection,
    @MessageBody() body: RefreshDto,
  ): Promise<{ exp: number }> {
    let principal;
    try {
      principal = await this.verifier.verify(body.token);
    } catch (err) {
      if (err instanceof InvalidTokenError)
        throw new HubbubError('forbidden', `Token refused: ${err.message}`);
      throw err;
    }
    if (principal.userId !== conn.userId) {
      throw new HubbubError('forbidden', 'Token is for another user');
    }
    const before = conn.principal;
    conn.principal = principal;
    this.expiry.track(conn);
    // Leaves the private: rooms and channels the new claims no longer grant (pushed before this reply).
    await this.recheck.afterRefresh(conn, before);
    return { exp: Math.floor(principal.expiresAt / 1000) };
  }

  @SubscribeMessage('server.stats')
  stats(): Promise<ServerStats> {
    return this.statsService.snapshot();
  }

  @SubscribeMessage('broadcast')
  async broadcast(@Conn() conn: Connection, @MessageBody() body: BroadcastDto): Promise<object> {
    if (!isAdmin(conn.principal))
      throw new HubbubError('forbidden', 'Broadcast needs the admin role');
    await this.push.toAll('broadcast', { data: body.data, from: conn.userId });
    return {};
  }
}
