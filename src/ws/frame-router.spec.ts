import { Observations } from '../common/observations';
import { loadConfig } from '../config/config';
import { Tracing } from '../tracing/tracing.service';
import { Connection } from './connection';
import { FrameRouter } from './frame-router';
import type { OutboundWriter } from './outbound-writer';
import { Overload } from './overload';

class NoObservations extends Observations {
  request(): void {}
  chatAppend(): void {}
  fanout(): void {}
}

/** A connection over a stand-in socket: the router only reads its fields and hands frames to the writer. */
function connection(id: string, expiresAt: number): Connection {
  const ws = { _socket: {} } as never;
  return new Connection(id, ws, { userId: id, roles: [], rooms: [], publish: [], expiresAt }, 100);
}

describe('FrameRouter', () => {
  const config = loadConfig({ JWT_SECRET: 'x'.repeat(32) });
  let written: { conn: Connection; frame: Record<string, unknown> }[];
  let router: FrameRouter;
  const calls: { client: unknown; data: unknown; gateway: unknown }[] = [];
  const gateway = { name: 'gateway' };
  const handler = function (this: unknown, client: unknown, data: unknown) {
    calls.push({ client, data, gateway: this });
    return Promise.resolve({ echoed: data });
  };

  beforeEach(() => {
    written = [];
    calls.length = 0;
    const writer = {
      write: (conn: Connection, frame: Buffer) => {
        // A text frame of under 126 bytes: a two-byte header.
        written.push({ conn, frame: JSON.parse(frame.subarray(2).toString()) as never });
      },
    } as unknown as OutboundWriter;
    router = new FrameRouter(
      config,
      writer,
      new NoObservations(),
      new Tracing(config),
      new Overload(config),
    );
    router.register('echo', { handler, gateway });
  });

  const send = (conn: Connection, frame: unknown) =>
    router.onMessage(conn, Buffer.from(JSON.stringify(frame)), false);
  const settled = () => new Promise((resolve) => setImmediate(resolve));

  it("calls a gateway's shared handler with the socket of the connection that sent the frame", async () => {
    const alice = connection('alice', Date.now() + 60_000);
    const bob = connection('bob', Date.now() + 60_000);
    send(alice, { event: 'echo', id: 1, data: { n: 1 } });
    send(bob, { event: 'echo', id: 2, data: { n: 2 } });
    await settled();
    expect(calls).toEqual([
      { client: alice.ws, data: { n: 1 }, gateway },
      { client: bob.ws, data: { n: 2 }, gateway },
    ]);
    expect(written.map(({ conn, frame }) => [conn.id, frame])).toEqual([
      ['alice', { event: 'echo', id: 1, data: { echoed: { n: 1 } } }],
      ['bob', { event: 'echo', id: 2, data: { echoed: { n: 2 } } }],
    ]);
  });

  it('answers token_expired, without calling the handler, to a request after the token expired', async () => {
    const late = connection('late', Date.now() - 1);
    send(late, { event: 'echo', id: 'r1', data: {} });
    await settled();
    expect(calls).toEqual([]);
    expect(written.map(({ frame }) => frame)).toEqual([
      { event: 'error', id: 'r1', data: { code: 'token_expired', message: expect.any(String) } },
    ]);
  });

  it('answers ping itself, in the same call, with pong and the request id', () => {
    const alice = connection('alice', Date.now() + 60_000);
    send(alice, { event: 'ping', id: 7 });
    expect(calls).toEqual([]);
    expect(written.map(({ frame }) => frame)).toEqual([
      { event: 'pong', id: 7, data: { ts: expect.any(Number) } },
    ]);
    expect(router.events().sort()).toEqual(['echo', 'ping']);
  });
});
