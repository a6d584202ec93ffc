import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { randomBytes } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { RetentionSweeper } from '../../src/privacy/retention-sweeper';
import { MessageStore } from '../../src/store/message-store';
import { BASE_ENV } from '../chat/chat-stores';
import { trackedClients } from '../support/clients';
import { rid } from '../support/fixtures';
import { startServer, type TestServer } from '../support/server';
import { Receiver } from '../support/webhook-receiver';
import { api, API_KEY, fill, sqliteReader } from './privacy-support';

/**
 * SQLite at scale and on disk (2-vCPU VM figures in the report): erased text leaves the files (database, FTS index,
 * -wal); a million old messages are swept while a bystander's pings stay fast; a 100,000-message export streams
 * with bounded heap.
 */
const DAY_MS = 86_400_000;

// A full GC on demand, to measure the live heap (V8's flag set at run time; the function from a fresh context).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
};

describe('erased text leaves the SQLite files', () => {
  let server: TestServer;
  let receiver: Receiver;
  beforeAll(async () => {
    // A receiver that refuses everything: the message.created events stay in the outbox, undelivered.
    receiver = await Receiver.start();
    receiver.status = () => 500;
    server = await startServer({
      ...BASE_ENV,
      API_KEY,
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('base64')}`,
    });
  });
  afterAll(async () => {
    await server?.close();
    await receiver?.stop();
  });
  const { connect } = trackedClients(() => server);

  /** The database file and its -wal file, as bytes. */
  const files = (): Buffer => {
    const path = server.config.sqlitePath;
    const wal = `${path}-wal`;
    return Buffer.concat([
      readFileSync(path),
      existsSync(wal) ? readFileSync(wal) : Buffer.alloc(0),
    ]);
  };

  it('leaves neither the text, nor its full-text index entries, nor the name in the database, the -wal file or undelivered webhooks', async () => {
    const marker = `zq${rid()}${rid()}`;
    const nameMarker = `Nm${rid()}${rid()}`;
    const [alice, bob, room] = [`alice-${rid()}`, `bob-${rid()}`, `bytes-${rid()}`];
    const a = await connect(alice, { name: nameMarker });
    const b = await connect(bob);
    await a.call('chat.join', { room });
    await b.call('chat.join', { room });
    for (let i = 0; i < 40; i++) await a.call('chat.send', { room, text: `${marker} words ${i}` });
    await b.call('chat.send', { room, text: 'bob stays' });
    // The bytes are there to be found before (in the -wal file, or the database after a checkpoint).
    expect(files().includes(marker)).toBe(true);
    expect(files().includes(nameMarker)).toBe(true);

    expect((await api(server.url, 'DELETE', `/api/users/${alice}`)).status).toBe(202);

    const bytes = files();
    expect(bytes.includes(marker)).toBe(false);
    expect(bytes.includes(nameMarker)).toBe(false);
    expect(bytes.includes('bob stays')).toBe(true);
    const outbox = sqliteReader(server.config.sqlitePath);
    const undelivered = await outbox<{ payload: string }>(
      `SELECT payload FROM webhook_outbox WHERE type = 'message.created' AND payload LIKE '%${alice}%'`,
    );
    expect(undelivered.length).toBe(40);
    for (const { payload } of undelivered) {
      expect(JSON.parse(payload)).toEqual(expect.objectContaining({ text: '', deleted: true }));
    }
    const wal = `${server.config.sqlitePath}-wal`;
    expect(existsSync(wal) ? readFileSync(wal).includes(marker) : false).toBe(false);
  });
});

describe('retention sweep of a million messages on SQLite', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({
      ...BASE_ENV,
      RETENTION_DAYS: '30',
      RETENTION_SWEEP_MS: '3600000',
    });
  });
  afterAll(() => server?.close());
  const { connect } = trackedClients(() => server);

  it("deletes them in bounded batches while a bystander's ping p99 stays under 50 ms (or twice the run's own baseline p99)", async () => {
    const sweeper = server.app.get(RetentionSweeper);
    await sweeper.tick(); // the start's sweep (of nothing), or one of nothing now: none runs during the fill
    const rooms = Array.from({ length: 10 }, () => `swept-${rid()}`);
    const old = Date.now() - 400 * DAY_MS;
    for (const room of rooms)
      fill(server.config.sqlitePath, room, 'old-user', 100_000, 'old message ', old);

    const bystander = await connect(`bystander-${rid()}`);
    const rtt = async (): Promise<number> => {
      const t0 = performance.now();
      await bystander.request('ping');
      return performance.now() - t0;
    };
    const baseline: number[] = [];
    for (let i = 0; i < 300; i++) {
      baseline.push(await rtt());
      await new Promise((r) => setTimeout(r, 10));
    }

    const during: number[] = [];
    let done = false;
    const t0 = performance.now();
    const sweep = sweeper.tick().then(() => (done = true));
    // A bystander pings every 10 ms (a tight loop would be a second load on this process, not a bystander).
    while (!done) {
      during.push(await rtt());
      await new Promise((r) => setTimeout(r, 10));
    }
    await sweep;
    const sweepMs = performance.now() - t0;

    const store = server.app.get(MessageStore);
    for (const room of rooms) {
      expect(await store.firstSeq(room)).toBe(100_001);
      expect(await store.lastSeq(room)).toBe(100_000);
    }
    const p99 = percentile(during, 99);
    process.stdout.write(
      `retention sweep: 1,000,000 messages in ${Math.round(sweepMs)} ms; ping p50/p99 baseline ${percentile(baseline, 50).toFixed(1)}/${percentile(baseline, 99).toFixed(1)} ms, during ${percentile(during, 50).toFixed(1)}/${p99.toFixed(1)} ms over ${during.length} pings\n`,
    );
    expect(during.length).toBeGreaterThan(100);
    // Under 50 ms; on a machine whose own noise is worse (its baseline p99 measured above), within twice that.
    expect(p99).toBeLessThan(Math.max(50, 2 * percentile(baseline, 99)));
  }, 1_500_000);
});

describe('export of 100,000 messages on SQLite', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ ...BASE_ENV, API_KEY });
  });
  afterAll(() => server?.close());

  it('streams a document of over 100 MB while the heap grows by far less', async () => {
    const [user, room] = [`big-${rid()}`, `big-${rid()}`];
    fill(server.config.sqlitePath, room, user, 100_000, 'a'.repeat(1000), Date.now() - 1000);
    // The heap that stays after a full GC (garbage is no measure of what the export holds), every 10 MB received.
    const live = (): number => {
      gc();
      return process.memoryUsage().heapUsed;
    };
    const before = live();
    let peak = before;
    let nextSample = 10e6;
    const res = await fetch(`${server.url}/api/users/${user}/export`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect(res.status).toBe(200);
    let bytes = 0;
    let count = 0;
    let carry = '';
    let head = '';
    const decoder = new TextDecoder();
    for await (const chunk of res.body!) {
      const text = carry + decoder.decode(chunk as Uint8Array, { stream: true });
      bytes += (chunk as Uint8Array).byteLength;
      if (head.length < 200) head += text.slice(0, 200);
      count += text.split('"seq":').length - 1;
      carry = text.slice(-6); // a "seq": cut in two is counted once, with the next chunk
      count -= carry.split('"seq":').length - 1;
      if (bytes >= nextSample) {
        peak = Math.max(peak, live());
        nextSample += 10e6;
      }
    }
    const growth = peak - before;
    process.stdout.write(
      `export: ${count} messages, ${(bytes / 1e6).toFixed(0)} MB streamed, live heap growth ${(growth / 1e6).toFixed(1)} MB at most\n`,
    );
    expect(head.startsWith(`{"userId":"${user}","messages":[{`)).toBe(true);
    expect(carry.endsWith('}\n')).toBe(true);
    expect(count).toBe(100_000);
    expect(bytes).toBeGreaterThan(100e6);
    expect(growth).toBeLessThan(20e6); // the whole document held would be over 113 MB
  }, 300_000);
});
