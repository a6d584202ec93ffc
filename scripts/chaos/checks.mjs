// The invariants of contract section 6 that scripts/chaos.mjs checks once the load has stopped.

/** Every message of a room through the server API (ascending seq). */
async function history(cluster, room) {
  const all = [];
  for (;;) {
    const after = all.length === 0 ? 0 : all[all.length - 1].seq;
    const { messages } = await cluster.api(
      `/rooms/${encodeURIComponent(room)}/messages?after=${after}&limit=100`,
    );
    if (messages.length === 0) return all;
    all.push(...messages);
  }
}

/** Acknowledged messages stored once with their seq, gapless seqs, no client missing a message after catch-up. */
export async function checkChat(cluster, clients, rooms, check) {
  const stored = new Map();
  for (const room of rooms) stored.set(room, await history(cluster, room));
  const gaps = [];
  const duplicates = [];
  for (const [room, messages] of stored) {
    messages.forEach((m, i) => {
      if (m.seq !== i + 1) gaps.push(`${room}: seq ${m.seq} at position ${i + 1}`);
    });
    const byClientId = new Map();
    for (const m of messages) {
      if (!m.clientMsgId) continue;
      const key = `${m.userId}\n${m.clientMsgId}`;
      if (byClientId.has(key))
        duplicates.push(`${room}: ${m.clientMsgId} at seqs ${byClientId.get(key)} and ${m.seq}`);
      byClientId.set(key, m.seq);
    }
  }
  const lost = [];
  let acked = 0;
  for (const c of clients) {
    const bySeq = new Map(stored.get(c.room).map((m) => [m.seq, m]));
    for (const [clientMsgId, { id, seq }] of c.acked) {
      acked++;
      const m = bySeq.get(seq);
      if (!m || m.id !== id || m.clientMsgId !== clientMsgId)
        lost.push(`${c.user} ${clientMsgId} (seq ${seq})`);
    }
  }
  const missing = [];
  for (const c of clients) {
    const messages = stored.get(c.room);
    const holes = messages.filter((m) => c.seen.get(m.seq) !== m.id).length;
    if (holes > 0)
      missing.push(`${c.user}: ${holes} of ${messages.length} (contiguous up to ${c.contiguous})`);
  }
  check(
    'chat: every acknowledged message stored, with the id and seq of its ack',
    lost.length === 0,
    `${lost.length} lost: ${lost.slice(0, 3).join('; ')}`,
  );
  check(
    'chat: stored once (no clientMsgId twice)',
    duplicates.length === 0,
    duplicates.slice(0, 3).join('; '),
  );
  check('chat: seqs gapless 1..n in every room', gaps.length === 0, gaps.slice(0, 3).join('; '));
  check(
    'chat: no client missing a message after catch-up',
    missing.length === 0,
    `${missing.length} clients: ${missing.slice(0, 3).join('; ')}`,
  );
  return { acked, stored: [...stored.values()].reduce((n, m) => n + m.length, 0) };
}

/** Alternation of `on`/`off` per key, in event time (ts) order, starting with `on`; and as many of each. */
function alternation(bodies, on, off, keyOf) {
  const byKey = new Map();
  bodies.forEach((b, arrival) => {
    if (b.type !== on && b.type !== off) return;
    const key = keyOf(b.data ?? {});
    if (!byKey.has(key)) byKey.set(key, []);
    byKey.get(key).push({ type: b.type, ts: Number(b.ts ?? 0), arrival });
  });
  const broken = [];
  let unbalanced = 0;
  for (const [key, events] of byKey) {
    events.sort((x, y) => x.ts - y.ts || x.arrival - y.arrival);
    const ok = events.every((e, i) => e.type === (i % 2 === 0 ? on : off));
    if (!ok)
      broken.push(
        `${key.replace('\n', '/')}: ${events.map((e) => (e.type === on ? '+' : '-')).join('')}`,
      );
    const ons = events.filter((e) => e.type === on).length;
    if (ons !== events.length - ons) unbalanced++;
  }
  return { keys: byKey.size, broken, unbalanced };
}

const LIFECYCLE = new Set(['presence.joined', 'presence.left', 'room.occupied', 'room.vacated']);

export function checkWebhooks(bodies, check) {
  const ids = new Map();
  for (const b of bodies) ids.set(b.id, { type: b.type, n: (ids.get(b.id)?.n ?? 0) + 1 });
  const repeated = [...ids].filter(([, { n }]) => n > 1);
  const lifecycle = repeated.filter(([, { type }]) => LIFECYCLE.has(type));
  check(
    'webhooks: no lifecycle event delivered twice (same id)',
    lifecycle.length === 0,
    `${lifecycle.length} ids repeated, e.g. ${lifecycle
      .map(([id]) => id)
      .slice(0, 3)
      .join(', ')}`,
  );
  const presence = alternation(
    bodies,
    'presence.joined',
    'presence.left',
    (d) => `${d.room}\n${d.userId}`,
  );
  check(
    'webhooks: presence.joined / presence.left alternate per (room, user), in ts order',
    presence.broken.length === 0,
    `${presence.broken.length} of ${presence.keys} keys, e.g. ${presence.broken.slice(0, 3).join('; ')}`,
  );
  check(
    'webhooks: as many presence.left as presence.joined per (room, user)',
    presence.unbalanced === 0,
    `${presence.unbalanced} of ${presence.keys} keys`,
  );
  const rooms = alternation(bodies, 'room.occupied', 'room.vacated', (d) => d.room);
  check(
    'webhooks: room.occupied / room.vacated alternate per room, in ts order',
    rooms.broken.length === 0,
    `${rooms.broken.length} of ${rooms.keys} rooms, e.g. ${rooms.broken.slice(0, 3).join('; ')}`,
  );
  check(
    'webhooks: as many room.vacated as room.occupied per room',
    rooms.unbalanced === 0,
    `${rooms.unbalanced} of ${rooms.keys} rooms`,
  );
  const byType = {};
  for (const b of bodies) byType[b.type] = (byType[b.type] ?? 0) + 1;
  return {
    'webhooks received by type': byType,
    // At least once: an instance killed between the receiver's 2xx and its outbox update sends it again (same id).
    'other webhooks delivered again with the same id': repeated.length - lifecycle.length,
  };
}
