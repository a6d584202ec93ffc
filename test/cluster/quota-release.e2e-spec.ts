import { Injectable } from '@nestjs/common';
import { EventEmitter, once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import {
  HandshakeAuthenticator,
  JwtHandshakeAuthenticator,
} from '../../src/auth/handshake-authenticator';
import type { Principal } from '../../src/auth/principal';
import { TokenVerifier } from '../../src/auth/token-verifier';
import { ConnectionQuota } from '../../src/quota/connection-quota';
import { rid } from '../support/fixtures';
import { startServer, type TestServer } from '../support/server';
import { servicesGate, TEST_DATABASE_URL, TEST_REDIS_URL } from '../support/services';
import { handshakeStatus } from '../support/ws-client';

/** Signals when a marked handshake is being authenticated, and holds it until its TCP peer is gone. */
const entered = new EventEmitter();

/**
 * The JWT authenticator, except that a request carrying `x-hold-until-reset` finishes authenticating only after
 * its socket closed: that forces the race of a peer resetting while the server awaits authentication.
 */
@Injectable()
class HoldUntilResetAuthenticator extends HandshakeAuthenticator {
  private readonly jwt: JwtHandshakeAuthenticator;

  constructor(verifier: TokenVerifier) {
    super();
    this.jwt = new JwtHandshakeAuthenticator(verifier);
  }

  async authenticate(request: IncomingMessage): Promise<Principal> {
    const principal = await this.jwt.authenticate(request);
    if (request.headers['x-hold-until-reset'] !== undefined) {
      // Not events.once: the reset may emit 'error' first, which would reject it.
      const closed = new Promise<void>((resolve) => {
        if (request.socket.destroyed) resolve();
        else request.socket.once('close', () => resolve());
      });
      entered.emit('entered');
      await closed;
    }
    return principal;
  }
}

/** Sends a valid upgrade request by hand, waits until the server is authenticating it, then resets. */
async function resetDuringAuthentication(server: TestServer, token: string): Promise<void> {
  const socket: Socket = connect(server.port, '127.0.0.1');
  await once(socket, 'connect');
  const authenticating = once(entered, 'entered');
  socket.write(
    'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
      `Authorization: Bearer ${token}\r\nx-hold-until-reset: 1\r\n\r\n`,
  );
  await authenticating;
  socket.resetAndDestroy();
  await once(socket, 'close');
}

const ROUNDS = 25;

function quotaReleaseSuite(mode: string, env: () => Record<string, string>): void {
  describe(`connection quota (${mode})`, () => {
    let server: TestServer;

    beforeAll(async () => {
      server = await startServer(
        { MAX_CONNECTIONS_PER_USER: '1', ...env() },
        { providers: [{ provide: HandshakeAuthenticator, useClass: HoldUntilResetAuthenticator }] },
      );
    });
    afterAll(() => server.close());

    it(`gives the slot back when the peer resets during authentication (${ROUNDS} rounds)`, async () => {
      const user = `reset-${rid()}`;
      const token = await server.token(user);
      for (let round = 0; round < ROUNDS; round++) await resetDuringAuthentication(server, token);
      // The last round's slot is given back asynchronously (a Redis round trip after the server saw the reset):
      // wait until the count says so. A leaked slot never comes back, and this times out.
      const quota = server.app.get(ConnectionQuota);
      while ((await quota.userConnections(user)) !== 0) await new Promise((r) => setImmediate(r));
      // One leaked slot is enough to lock the user out: MAX_CONNECTIONS_PER_USER is 1, so this would be 429.
      expect(await handshakeStatus(server.wsUrl, { authorization: `Bearer ${token}` })).toBe(101);
    });
  });
}

quotaReleaseSuite('single instance', () => ({}));

const redis = servicesGate('redis');
const postgres = servicesGate('postgres');
(redis.available ? postgres : redis).describe('cluster mode', () => {
  quotaReleaseSuite('Redis', () => ({
    REDIS_URL: TEST_REDIS_URL,
    DATABASE_URL: TEST_DATABASE_URL,
    NODE_ID: `quota-${rid()}`,
  }));
});
