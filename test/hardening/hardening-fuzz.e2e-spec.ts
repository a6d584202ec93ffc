/**
 * Issue 8, property tests (fast-check) over raw frames and every DTO: whatever a client sends, the server does not
 * crash, answers every frame that carried an id with the contract's reply or error, never logs a stack for it, and
 * another client's ping stays fast meanwhile.
 */
import fc from 'fast-check';
import { ERROR_CODES } from '../../src/protocol/errors';
import { captureLogs, type LogCapture } from '../support/log-capture';
import { startServer, type TestServer } from '../support/server';
import { TestClient, type Frame } from '../support/ws-client';

const EVENTS = [
  'ping',
  'auth.refresh',
  'server.stats',
  'broadcast',
  'chat.join',
  'chat.leave',
  'chat.send',
  'chat.history',
  'chat.typing',
  'chat.dm',
  'chat.read',
  'channel.subscribe',
  'channel.unsubscribe',
  'channel.publish',
  'presence.list',
  'presence.status',
  'presence.query',
];

const nastyString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom(
    '\u0000',
    '\ud800',
    '\udfff',
    'a\u0000b',
    '__proto__',
    'constructor',
    'lobby',
    '',
  ),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
);
const nastyNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(2 ** 53, 2 ** 63, 1e308, -1, 0, 0.5, -0, Number.MAX_SAFE_INTEGER),
);
/** Values that go into DTO fields: a few plausible ones, many hostile ones. */
const fieldValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    nastyString,
    nastyNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(nastyString, tie('value'), { maxKeys: 4 }),
  ),
})).value;

const FIELDS = [
  'room',
  'channel',
  'since',
  'before',
  'after',
  'limit',
  'text',
  'clientMsgId',
  'to',
  'seq',
  'typing',
  'status',
  'userIds',
  'token',
  'data',
  '__proto__',
  'constructor',
];

const dtoData = fc.dictionary(fc.constantFrom(...FIELDS), fieldValue, { maxKeys: 5 });

/** Frames as text: well-formed requests with hostile data, arbitrary JSON, deep nesting, broken JSON. */
const rawFrame = (id: number): fc.Arbitrary<string> =>
  fc.oneof(
    fc
      .record({ event: fc.constantFrom(...EVENTS), data: dtoData })
      .map((f) => JSON.stringify({ ...f, id })),
    fc
      .record({ event: fc.constantFrom(...EVENTS), data: fieldValue })
      .map((f) => JSON.stringify({ ...f, id })),
    fc.jsonValue().map((data) => JSON.stringify({ event: 'chat.join', id, data })),
    fc
      .tuple(fc.integer({ min: 20, max: 8_000 }), fc.constantFrom('[', '{"a":'))
      .map(([depth, open]) => {
        // At most 48 KB: inside MAX_PAYLOAD_BYTES (a bigger frame closes the socket with 1009, by contract).
        const close = open === '[' ? ']' : '}';
        return `{"event":"chat.send","id":${id},"data":{"room":"lobby","x":${open.repeat(depth)}1${close.repeat(depth)}}}`;
      }),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.string().map((s) => `{"event":"ping","id":${id},${s}`),
    fc.constantFrom(
      `{"event":"ping","id":${id},"__proto__":{"admin":true}}`,
      `{"event":"chat.join","id":${id},"data":{"room":"lobby","__proto__":{"since":1}}}`,
      `{"event":"chat.send","id":${id},"data":{"room":"lobby","text":"\\ud800"}}`,
    ),
  );

/** Generated frames carry this id; each run replaces it with a fresh one. */
const ID_PLACEHOLDER = 987654321987;

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** What the answer to a frame with this id must look like: its own event (pong for ping), or a contract error. */
function expectContractAnswer(frame: Frame, event: string | undefined): void {
  if (frame.event === 'error') {
    expect(ERROR_CODES).toContain(frame.data.code);
    expect(typeof frame.data.message).toBe('string');
    expect(JSON.stringify(frame.data)).not.toMatch(/\n\s+at /);
    return;
  }
  expect(frame.event).toBe(event === 'ping' ? 'pong' : event);
}

describe('property: hostile frames', () => {
  let server: TestServer;
  let logs: LogCapture;
  let fuzzer: TestClient;
  let watcher: TestClient;
  const pings: number[] = [];

  beforeAll(async () => {
    server = await startServer({ RATE_LIMIT_PER_SEC: '100000', RATE_LIMIT_BURST: '100000' });
    fuzzer = await TestClient.connect(
      server.wsUrl,
      await server.token('fuzzer', { publish: ['*'] }),
    );
    watcher = await TestClient.connect(server.wsUrl, await server.token('watcher'));
    logs = captureLogs();
  });
  afterAll(async () => {
    logs.restore();
    await fuzzer?.close();
    await watcher?.close();
    await server.close();
    const sorted = pings.sort((a, b) => a - b);
    if (sorted.length > 0)
      console.info(
        `watcher ping during the run: ${sorted.length} pings, p99 ${sorted[Math.ceil(sorted.length * 0.99) - 1].toFixed(1)} ms`,
      );
  });

  it('answers every frame with an id with its reply or a contract error, and never logs a stack', async () => {
    // The same pings before the run: on a loaded machine they are slow with no fuzzing at all.
    const baseline: number[] = [];
    for (let i = 0; i < 100; i++) {
      const start = performance.now();
      await watcher.request('ping');
      baseline.push(performance.now() - start);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    baseline.sort((a, b) => a - b);
    let nextId = 1;
    // One fsync of a fuzzed chat.send, or a GC, can hold a few of a round's pings: the latency bound must hold in
    // one of up to three rounds (each round's frames are checked in full, every round).
    let bestP99 = Number.POSITIVE_INFINITY;
    for (let round = 0; round < 3 && !(bestP99 < 50 + baseline[98]); round++) {
      bestP99 = Math.min(bestP99, await fuzzRound());
    }
    expect(logs.stacks()).toEqual([]);
    // Under 50 ms on a quiet machine; on a loaded one, at most 50 ms above what the load alone costs.
    expect(bestP99).toBeLessThan(50 + baseline[98]);

    /** 300 hostile frames while another client pings; returns that client's ping p99 (ms) during the round. */
    async function fuzzRound(): Promise<number> {
      const roundPings: number[] = [];
      let running = true;
      // Meanwhile, another client pings.
      const pinging = (async () => {
        while (running) {
          const start = performance.now();
          expect((await watcher.request('ping')).event).toBe('pong');
          pings.push(performance.now() - start);
          roundPings.push(performance.now() - start);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })();
      try {
        await fc.assert(
          fc.asyncProperty(rawFrame(ID_PLACEHOLDER), async (template) => {
            const id = nextId++;
            const text = template.split(String(ID_PLACEHOLDER)).join(String(id));
            let event: string | undefined;
            let parsedId: unknown;
            try {
              const parsed = JSON.parse(text) as { event?: unknown; id?: unknown };
              event = typeof parsed?.event === 'string' ? parsed.event : undefined;
              parsedId = parsed?.id;
            } catch {
              parsedId = undefined;
            }
            const parses = event !== undefined || parsedId !== undefined || isJson(text);
            fuzzer.send(text);
            if (!parses) {
              // Not JSON: bad_json, without an id (there is no way to read one).
              const answer = await fuzzer.wait(
                (f) => f.event === 'error' && f.id === undefined && f.data.code === 'bad_json',
                `bad_json for ${text.slice(0, 80)}`,
              );
              expect(answer.data.message).toEqual(expect.any(String));
            } else if (parsedId === id) {
              const answer = await fuzzer.wait(
                (f) => f.id === id,
                `answer to ${text.slice(0, 80)}`,
              );
              expectContractAnswer(answer, event);
            } else {
              // No id of ours: a ping proves the server is still there and answering this socket.
              expect((await fuzzer.request('ping')).event).toBe('pong');
            }
            expect(fuzzer.ws.readyState).toBe(1);
          }),
          { numRuns: 300 },
        );
      } finally {
        running = false;
        await pinging;
      }
      const sorted = roundPings.sort((a, b) => a - b);
      return sorted[Math.ceil(sorted.length * 0.99) - 1];
    }
  });
});
