/**
 * Webhook floods (issue 19.5): WEBHOOK_CONCURRENCY deliveries in flight, fair across users and rooms; join/leave
 * flapping coalesced with what is sent still alternating, each event once; a bounded outbox that sheds lifecycle
 * events in pairs and never `message.created`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { WebhookOutbox } from '../../src/store/webhook-outbox';
import { WebhookService } from '../../src/webhooks/webhook.service';
import { rid } from '../support/fixtures';
import { startServer, type TestServer } from '../support/server';
import { type Delivery, Receiver } from '../support/webhook-receiver';
import { TestClient } from '../support/ws-client';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
/** Flapping clients send many requests in a row: not a rate-limit test. */
const FAST = { RATE_LIMIT_PER_SEC: '1000', RATE_LIMIT_BURST: '1000' };

/** For each lane (presence of a room and user, occupancy of a room), the types in order of arrival. */
function sequences(deliveries: Delivery[]): Map<string, string[]> {
  const lanes = new Map<string, string[]>();
  for (const { body } of deliveries) {
    if (body.type === 'message.created') continue;
    const d = body.data as { room: string; userId?: string };
    const lane = body.type.startsWith('presence.') ? `${d.room} ${d.userId}` : d.room;
    lanes.set(lane, [...(lanes.get(lane) ?? []), body.type]);
  }
  return lanes;
}

/** Every lane alternates, opening first; with `closed`, every lane ends closed. */
function expectAlternation(deliveries: Delivery[], closed: boolean): void {
  for (const [lane, types] of sequences(deliveries)) {
    const opening = types[0].startsWith('presence.') ? 'presence.joined' : 'room.occupied';
    const closing = opening === 'presence.joined' ? 'presence.left' : 'room.vacated';
    const expected = types.map((_, i) => (i % 2 === 0 ? opening : closing));
    expect({ lane, types }).toEqual({ lane, types: expected });
    if (closed) expect({ lane, last: types.at(-1) }).toEqual({ lane, last: closing });
  }
  expect(new Set(deliveries.map((d) => d.body.id)).size).toBe(deliveries.length); // each once
}

describe('webhook floods', () => {
  let receiver: Receiver;
  let server: TestServer | undefined;
  const clients: TestClient[] = [];
  const connect = async (userId: string) => {
    const c = await TestClient.connect(server!.wsUrl, await server!.token(userId));
    clients.push(c);
    return c;
  };
  /** Resolves once the outbox is empty (everything delivered), checked after each delivery. */
  const drained = async () => {
    const outbox = server!.app.get(WebhookOutbox);
    while ((await outbox.countWebhooks()) > 0) {
      const seen = receiver.deliveries.length;
      // (the last delivery is removed from the outbox just after it arrives: look again soon)
      await receiver.until((all) => all.length > seen, 'a delivery', 300).catch(() => {});
    }
  };

  beforeEach(async () => {
    receiver = await Receiver.start();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await server?.close();
    server = undefined;
    await receiver.stop();
  });

  test('WEBHOOK_CONCURRENCY requests are in flight, never more', async () => {
    server = await startServer({
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_CONCURRENCY: '3',
    });
    receiver.holding = true;
    // Twelve events due at the same moment, in one write: the dispatcher sees them all at once.
    const ts = Date.now();
    await server.app.get(WebhookOutbox).enqueue(
      Array.from({ length: 12 }, (_, i) => ({
        id: randomUUID(),
        type: 'room.occupied' as const,
        ts,
        data: { room: `busy-${i}` },
      })),
    );
    // Answer one held request at a time; each answer frees a slot that the next request takes.
    for (let answered = 0; answered < 12; answered++) {
      const arrived = Math.min(12, answered + 3);
      await receiver.until((all) => all.length >= arrived, `${arrived} requests`);
      expect(receiver.heldCount).toBe(arrived - answered);
      receiver.releaseOne();
    }
    expect(receiver.maxHeld).toBe(3);
    expect(new Set(receiver.deliveries.map((d) => d.body.id)).size).toBe(12);
  }, 30_000);

  test("a user flapping over 30 rooms delays another user's message.created by one round at most", async () => {
    server = await startServer({
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_CONCURRENCY: '2',
      ...FAST,
    });
    receiver.holding = true; // a slow receiver: the flapper's events pile up behind the first
    const flapper = await connect('flapper');
    for (let i = 0; i < 30; i++) {
      const room = `flap-${i}-${rid()}`;
      await flapper.call('chat.join', { room });
      await flapper.call('chat.leave', { room });
    }
    const bystander = await connect('bystander');
    const calm = `calm-${rid()}`;
    await bystander.call('chat.join', { room: calm });
    const { message } = await bystander.call('chat.send', { room: calm, text: 'on time' });
    // Held: the flapper's first event, and the bystander's first in the other slot.
    await receiver.until((all) => all.length === 2, 'both slots taken');
    const before = receiver.deliveries.length;
    receiver.release();

    const created = await receiver.next('message.created');
    expect(created.body.data).toEqual(message);
    // Ahead of it: what was in flight, then one round: one event of each owner with something waiting (the
    // flapper, the bystander's joins), two slots each.
    const position = receiver.deliveries.indexOf(created);
    expect(position).toBeLessThanOrEqual(before + 2 * 2);
    await drained();
    const fromFlapper = receiver.deliveries.filter(
      (d) => (d.body.data as { room: string }).room?.startsWith('flap-') ?? false,
    );
    expect(fromFlapper.length).toBeGreaterThanOrEqual(60); // the flood was real: it came after the message
    expect(receiver.deliveries.indexOf(fromFlapper.at(-1)!)).toBeGreaterThan(position);
    expectAlternation(receiver.deliveries, false);
  }, 60_000);

  test('join/leave flapping in one room is coalesced: fewer events, still alternating, each once, ending left', async () => {
    server = await startServer({ WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET, ...FAST });
    const flapper = await connect('flapper');
    const room = `flap-${rid()}`;
    for (let i = 0; i < 10; i++) {
      await flapper.call('chat.join', { room });
      await flapper.call('chat.leave', { room });
    }
    await drained();
    const mine = receiver.deliveries.filter((d) => (d.body.data as { room: string }).room === room);
    expectAlternation(mine, true);
    expect(mine.length).toBeLessThan(40); // 10 flaps would be 40 events
    expect(server.app.get(WebhookService).coalesced).toBeGreaterThan(0);
  }, 30_000);

  test('a full outbox sheds lifecycle events in pairs, never message.created', async () => {
    await receiver.stop(); // nothing is delivered: the outbox only fills
    server = await startServer({
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_OUTBOX_MAX_EVENTS: '6',
    });
    const user = await connect('joiner');
    const rooms = Array.from({ length: 12 }, (_, i) => `full-${i}-${rid()}`);
    const messages: unknown[] = [];
    for (const room of rooms) {
      await user.call('chat.join', { room });
      messages.push((await user.call('chat.send', { room, text: room })).message);
    }
    await user.close(); // every room: presence.left and room.vacated, or nothing for a shed pair
    const webhooks = server.app.get(WebhookService);
    const shedTotal = () => Object.values(webhooks.shed).reduce((a, b) => a + b, 0);
    // Every event of the twelve rooms is either in the outbox or shed (so the leaves have all been decided).
    const outbox = server.app.get(WebhookOutbox);
    while ((await outbox.countWebhooks()) + shedTotal() < rooms.length * 5) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^hubbub_webhook_shed_total\{type="room.occupied"\} [1-9]/m);

    await receiver.listen();
    await drained();
    const created = receiver.of('message.created').map((d) => d.body.data);
    expect(created).toHaveLength(rooms.length);
    expect(new Set(created.map((m) => JSON.stringify(m)))).toEqual(
      new Set(messages.map((m) => JSON.stringify(m))),
    );
    expectAlternation(receiver.deliveries, true);
    expect(shedTotal()).toBeGreaterThan(0);
    expect(receiver.deliveries.length).toBe(rooms.length * 5 - shedTotal());
  }, 60_000);
});
