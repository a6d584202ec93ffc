import {
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  Injectable,
  Module,
  type NestInterceptor,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  SubscribeMessage,
} from '@nestjs/websockets';
import { APP_GUARD } from '@nestjs/core';
import { map, type Observable } from 'rxjs';
import type { WebSocket } from 'ws';
import { IsString, Length } from 'class-validator';
import type { IncomingMessage } from 'node:http';
import { HandshakeAuthenticator, HandshakeRejection } from '../../src/auth/handshake-authenticator';
import type { Principal } from '../../src/auth/principal';
import { PushService } from '../../src/fanout/push.service';
import { HubbubError } from '../../src/protocol/errors';
import { connectionOf, type Connection } from '../../src/ws/connection';
import { Conn, HubbubGateway } from '../../src/ws/decorators';
import { startServer, type TestServer } from '../support/server';
import { handshakeStatus, TestClient } from '../support/ws-client';

/** A team's own gateway on the shared endpoint, with Hubbub's DTO validation and error frames. */
class ShoutDto {
  @IsString() @Length(1, 20) text!: string;
}

/** A team's guard: mallory may not whisper. */
@Injectable()
class NoMallory implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return connectionOf(context.switchToWs().getClient())?.userId !== 'mallory';
  }
}

/** A team's interceptor: wraps the handler's result. */
@Injectable()
class Envelope implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(map((result: unknown) => ({ wrapped: result })));
  }
}

/** Users seen by the gateway's connection hooks, in order, and whoever waits for the next one. */
const seen: string[] = [];
let onSeen = (): void => undefined;
const record = (what: string): void => {
  seen.push(what);
  onSeen();
};

@HubbubGateway()
class ShoutGateway implements OnGatewayConnection, OnGatewayDisconnect {
  constructor(private readonly push: PushService) {}

  handleConnection(client: WebSocket): void {
    record(`open ${connectionOf(client)?.userId}`);
  }

  handleDisconnect(client: WebSocket): void {
    record(`close ${connectionOf(client)?.userId}`);
  }

  /** No argument, but a guard: Nest's pipeline still runs for it. */
  @SubscribeMessage('team.time')
  @UseGuards(NoMallory)
  time(): { t: number } {
    return { t: 1 };
  }

  /** Guard, interceptor and the raw socket: each request gets its own client's socket. */
  @SubscribeMessage('team.whisper')
  @UseGuards(NoMallory)
  @UseInterceptors(Envelope)
  whisper(@ConnectedSocket() socket: WebSocket, @MessageBody() body: { to?: unknown }) {
    return { from: connectionOf(socket)?.userId, to: body.to };
  }

  @SubscribeMessage('team.shout')
  async shout(
    @Conn() conn: Connection,
    @MessageBody() { text }: ShoutDto,
  ): Promise<{ loud: string }> {
    if (text === 'secret') throw new HubbubError('forbidden', 'Not that word');
    await this.push.toAll('team.shouted', { from: conn.userId, loud: text.toUpperCase() });
    return { loud: text.toUpperCase() };
  }
}

@Module({ providers: [ShoutGateway] })
class ShoutModule {}

/** A team's own handshake: a trusted proxy put the user in a header (instead of a JWT). */
@Injectable()
class ProxyHeaderAuthenticator extends HandshakeAuthenticator {
  authenticate(request: IncomingMessage): Promise<Principal> {
    const user = request.headers['x-proxy-user'];
    if (typeof user !== 'string')
      return Promise.reject(new HandshakeRejection(401, 'no proxy user'));
    return Promise.resolve({
      userId: user,
      roles: [],
      rooms: [],
      publish: [],
      expiresAt: Date.now() + 60_000,
    });
  }
}

describe('extending Hubbub with Nest modules', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer(
      {},
      {
        imports: [ShoutModule],
        providers: [{ provide: HandshakeAuthenticator, useClass: ProxyHeaderAuthenticator }],
      },
    );
  });
  afterAll(async () => {
    await server.close();
  });

  const connect = (user: string) =>
    TestClient.connect(server.wsUrl, undefined, { headers: { 'x-proxy-user': user } });

  it('authenticates handshakes with the authenticator the team provided', async () => {
    expect(await handshakeStatus(server.wsUrl)).toBe(401);
    // The default JWT authenticator is replaced: a valid JWT alone no longer opens a socket.
    expect(
      await handshakeStatus(server.wsUrl, { authorization: `Bearer ${await server.token('x')}` }),
    ).toBe(401);
    const client = await connect('proxy-alice');
    expect((await client.call('ping')).ts).toEqual(expect.any(Number));
    await client.close();
  });

  it("routes the team's events next to Hubbub's, with validation and error frames tied to the id", async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    expect(await alice.call('team.shout', { text: 'hello' })).toEqual({ loud: 'HELLO' });
    expect((await bob.next('team.shouted')).data).toEqual({ from: 'alice', loud: 'HELLO' });

    const invalid = await alice.request('team.shout', { text: '' });
    expect(invalid.data).toMatchObject({
      code: 'validation_failed',
      details: [{ field: 'text', errors: [expect.any(String)] }],
    });
    const refused = await alice.request('team.shout', { text: 'secret' });
    expect(refused).toMatchObject({
      event: 'error',
      id: refused.id,
      data: { code: 'forbidden', message: 'Not that word' },
    });
    // Hubbub's own events still work on the same socket.
    expect((await alice.call('chat.join', { room: 'team-room' })).room).toBe('team-room');
    await alice.close();
    await bob.close();
  });

  it("runs the team's guards, interceptors, @ConnectedSocket and connection hooks for each client", async () => {
    seen.length = 0;
    const clients = await Promise.all(['carol', 'dave', 'mallory'].map(connect));
    const [carol, dave, mallory] = clients;
    // Handlers are shared by all connections: each request still sees the socket it came from.
    const replies = await Promise.all([
      carol.call('team.whisper', { to: 'dave' }),
      dave.call('team.whisper', { to: 'carol' }),
    ]);
    expect(replies).toEqual([
      { wrapped: { from: 'carol', to: 'dave' } },
      { wrapped: { from: 'dave', to: 'carol' } },
    ]);
    const refused = await mallory.request('team.whisper', { to: 'carol' });
    expect(refused).toMatchObject({ event: 'error', id: refused.id, data: { code: 'forbidden' } });
    // A handler without arguments keeps its guard too.
    expect(await carol.call('team.time')).toEqual({ t: 1 });
    expect((await mallory.request('team.time')).data).toMatchObject({ code: 'forbidden' });
    await Promise.all(clients.map((c) => c.close()));
    await new Promise<void>((resolve) => {
      onSeen = () => void (seen.length === 6 && resolve());
      onSeen();
    });
    expect(seen.slice(0, 3).sort()).toEqual(['open carol', 'open dave', 'open mallory']);
    expect(seen.slice(3).sort()).toEqual(['close carol', 'close dave', 'close mallory']);
  });
});

/** A team's global guard (APP_GUARD): it sees every event, Hubbub's own included. */
@Injectable()
class NoPingForBlocked implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const ws = context.switchToWs();
    return !(
      ws.getPattern() === 'server.stats' && connectionOf(ws.getClient())?.userId === 'blocked'
    );
  }
}

describe('a global guard of the team', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer(
      {},
      { providers: [{ provide: APP_GUARD, useClass: NoPingForBlocked }] },
    );
  });
  afterAll(async () => {
    await server.close();
  });

  it("guards Hubbub's own events, even those that take no argument (not ping, a protocol frame)", async () => {
    const blocked = await TestClient.connect(server.wsUrl, await server.token('blocked'));
    const other = await TestClient.connect(server.wsUrl, await server.token('other'));
    expect((await blocked.request('server.stats')).data).toMatchObject({ code: 'forbidden' });
    expect((await other.call('server.stats')).node).toEqual(expect.any(String));
    expect((await blocked.call('ping')).ts).toEqual(expect.any(Number));
    await blocked.close();
    await other.close();
  });
});
