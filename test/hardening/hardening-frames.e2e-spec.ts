/**
 * Issue 8, point 1: a frame nested 16,000 levels deep (32 KB) used to make class-transformer recurse until the stack
 * overflowed: 40 of them cost 1.8 s of CPU, pushed another client's ping to p99 884 ms, and each logged a stack.
 * Now anything deeper than 32 levels is `bad_request` after one O(bytes) scan, before any conversion.
 */
import { trackedClients } from '../support/clients';
import { cpuMsOf } from '../support/cpu';
import { rid } from '../support/fixtures';
import { captureLogs, type LogCapture } from '../support/log-capture';
import { startServer, type TestServer } from '../support/server';
import type { TestClient } from '../support/ws-client';

const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

/** `{"event":"chat.join","id":…,"data":{"room":…,"x":<16,000 levels>}}`, the frame of the report. */
const deepJoin = (id: number, room: string, depth = 16_000): string =>
  `{"event":"chat.join","id":${id},"data":{"room":"${room}","x":${nested(depth)}}}`;

/** Round-trip times of `count` pings sent one after the other, in ms, sorted. */
async function pingTimes(client: TestClient, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    // At most 200 pings a second: inside any rate limit used here.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const start = performance.now();
    const pong = await client.request('ping');
    expect(pong.event).toBe('pong');
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b);
}

const p99 = (sorted: number[]): number => sorted[Math.ceil(sorted.length * 0.99) - 1];

describe('deeply nested frames', () => {
  let server: TestServer;
  let logs: LogCapture;

  beforeAll(async () => {
    // Attackers inside a generous rate limit: the cost of each frame is what is measured, not the limiter.
    server = await startServer({ RATE_LIMIT_PER_SEC: '1000', RATE_LIMIT_BURST: '1000' });
    logs = captureLogs();
  });
  /** Measurements, printed once the log capture is off (a console line would carry a stack-like `at` line). */
  const figures: string[] = [];
  afterAll(async () => {
    logs.restore();
    await server.close();
    if (figures.length > 0) console.info(figures.join('\n'));
  });

  const { connect } = trackedClients(() => server);

  it('answers a 16,000-level chat.join with bad_request and its id at once, and does not join', async () => {
    const room = `room-${rid()}`;
    const alice = await connect(`alice-${rid()}`);
    expect(Buffer.byteLength(deepJoin(7, room))).toBeGreaterThan(32_000);
    // CPU time of this process (server and client) per frame, the median of five: a single window also holds
    // whatever else the process's threads did meanwhile (a concurrent GC of the server's start, JIT), which a
    // loaded CI machine stretched to 55 ms once. The recursive parse and validation cost ~45 ms a frame.
    const cpu: number[] = [];
    for (let id = 7; id < 12; id++) {
      const { value: reply, cpuMs } = await cpuMsOf(() => {
        alice.send(deepJoin(id, room));
        return alice.wait((f) => f.id === id, 'reply to the deep frame');
      });
      cpu.push(cpuMs);
      expect(reply).toEqual({
        event: 'error',
        id,
        data: { code: 'bad_request', message: expect.stringMatching(/deeper than 32/) },
      });
    }
    expect(cpu.sort((a, b) => a - b)[2]).toBeLessThan(30);
    expect((await alice.request('chat.send', { room, text: 'x' })).data.code).toBe('not_joined');
    expect(logs.stacks()).toEqual([]);
  });

  it('accepts 32 levels, refuses 33, whatever the key', async () => {
    const room = `room-${rid()}`;
    const alice = await connect(`alice-${rid()}`);
    // The frame object is level 1 and data level 2: x adds 30 more, which makes 32.
    alice.send(`{"event":"chat.join","id":1,"data":{"room":"${room}","x":${nested(30)}}}`);
    expect((await alice.wait((f) => f.id === 1, 'reply 1')).event).toBe('chat.join');
    alice.send(`{"event":"ping","id":2,"data":{"x":${nested(31)}}}`);
    expect((await alice.wait((f) => f.id === 2, 'reply 2')).data).toMatchObject({
      code: 'bad_request',
    });
    alice.send(`{"event":"ping","id":3,"data":{"x":"${'['.repeat(5000)}"}}`);
    expect((await alice.wait((f) => f.id === 3, 'reply 3')).event).toBe('pong');
  });

  it("keeps another client's ping p99 under 50 ms while two clients send deep frames inside the rate limit, and logs no stack", async () => {
    const room = `room-${rid()}`;
    // The report's setting (two attackers inside the rate limit, a third client pinging), with a limit of 400/s
    // instead of 20/s, so that the attackers send twenty times more and the victim can ping often enough.
    const limited = await startServer({ RATE_LIMIT_PER_SEC: '400', RATE_LIMIT_BURST: '40' });
    try {
      const attackers = [
        await connect(`mallory-${rid()}`, {}, limited),
        await connect(`trudy-${rid()}`, {}, limited),
      ];
      const victim = await connect(`victim-${rid()}`, {}, limited);
      const BURST = 40;
      const FRAMES = 600;
      const frames = Array.from({ length: FRAMES + 1 }, (_, i) => deepJoin(i, room));
      let nextId = 1;
      /** One round: a baseline without attack, then the attack while the victim pings. */
      const round = async (): Promise<{
        baseline: number[];
        times: number[];
        cpuMsPerFrame: number;
      }> => {
        const baseline = await pingTimes(victim, 200);
        let stop = false;
        let sent = 0;
        const cpu = process.cpuUsage();
        // The attackers live in this process too: each send yields to the event loop, so that the time measured
        // is the server's, not the test's own client code. After the burst, 300 frames a second stay inside 400/s.
        const attack = async (client: TestClient): Promise<void> => {
          for (let i = 1; i <= FRAMES && !stop; i++) {
            client.send(frames[i].replace(`"id":${i},`, `"id":${nextId++},`));
            sent++;
            await new Promise((resolve) =>
              i < BURST ? setImmediate(resolve) : setTimeout(resolve, 1000 / 300),
            );
          }
        };
        const attacking = Promise.all(attackers.map(attack));
        const times = await pingTimes(victim, 200);
        stop = true;
        await attacking;
        const used = process.cpuUsage(cpu);
        return { baseline, times, cpuMsPerFrame: (used.user + used.system) / 1000 / sent };
      };
      // Latency on a shared machine is noisy: up to three rounds, the best one counts (the report measured a p99
      // of 884 ms, which no round would come near). On a machine so loaded that pings are slow with no attack at
      // all, the attack may add at most 50 ms to what the load alone costs.
      let best: Awaited<ReturnType<typeof round>> | undefined;
      for (let attempt = 0; attempt < 3; attempt++) {
        const result = await round();
        figures.push(
          `round ${attempt + 1}: ping p99 with no attack ${p99(result.baseline).toFixed(1)} ms; under attack p50 ${result.times[99].toFixed(1)} ms, p99 ${p99(result.times).toFixed(1)} ms; ${result.cpuMsPerFrame.toFixed(2)} ms CPU per deep frame (server and test clients)`,
        );
        if (
          !best ||
          p99(result.times) - p99(result.baseline) < p99(best.times) - p99(best.baseline)
        )
          best = result;
        if (p99(best.times) < 50 + p99(best.baseline)) break;
      }
      for (const attacker of attackers) {
        const answers = attacker.frames.filter((f) => f.id !== undefined && f.event !== 'pong');
        expect(answers.length).toBeGreaterThan(BURST);
        expect(answers.every((f) => f.event === 'error' && f.data.code === 'bad_request')).toBe(
          true,
        );
      }
      expect(p99(best!.times)).toBeLessThan(50 + p99(best!.baseline));
      // CPU time does not depend on the machine's load: a deep frame used to cost ~45 ms (1.8 s for 40).
      expect(best!.cpuMsPerFrame).toBeLessThan(5);
      expect(logs.stacks()).toEqual([]);
    } finally {
      await limited.close();
    }
  });
});
