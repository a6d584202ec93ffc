// The clients of scripts/chaos.mjs. Each reconnects by itself (home instance first, then the others) and keeps
// what it needs to check the contract's delivery promises afterwards.
import { Sock } from './net.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Base: one socket that comes back after every loss until stop(). */
class Reconnecting {
  stopping = false;
  reconnects = 0;
  sock = undefined;

  constructor(cluster, user, home) {
    this.cluster = cluster;
    this.user = user;
    this.home = home;
  }

  /** Connects (trying every instance, from home on) and runs `ready()`; loops until stopped. */
  async run() {
    let attempt = 0;
    while (!this.stopping) {
      const at = (this.home + attempt) % this.cluster.size;
      try {
        const sock = await Sock.open(
          this.cluster.wsUrl(at),
          this.cluster.token(this.user, this.claims?.()),
        );
        sock.onPush = (f) => this.push(f);
        this.sock = sock;
        await this.ready(sock);
        attempt = 0;
        await sock.closed;
      } catch {
        this.sock?.terminate();
        attempt++;
      }
      this.sock = undefined;
      if (this.stopping) return;
      this.reconnects++;
      await sleep(this.backoff(attempt));
    }
  }

  start() {
    this.done = this.run();
    return this;
  }

  async stop() {
    this.stopping = true;
    await this.sock?.close();
    await this.done;
  }

  push() {}

  backoff() {
    return 150 + Math.random() * 350;
  }
}

/** Sends to one room (one message in flight, retried with its clientMsgId until acknowledged) and reads it all. */
export class ChatClient extends Reconnecting {
  seen = new Map(); // seq → id
  contiguous = 0;
  acked = new Map(); // clientMsgId → {id, seq}
  pending = undefined;
  sent = 0;
  retries = 0;
  errors = new Map(); // code → count
  joined = false;
  sending = true;

  constructor(cluster, user, home, room) {
    super(cluster, user, home);
    this.room = room;
  }

  record(m) {
    if (m.room !== this.room) return;
    this.seen.set(m.seq, m.id);
    while (this.seen.has(this.contiguous + 1)) this.contiguous++;
  }

  push(f) {
    if (f.event === 'chat.message') this.record(f.data);
  }

  async ready(sock) {
    this.joined = false;
    const reply = await sock.call('chat.join', { room: this.room, since: this.contiguous });
    for (const m of reply.messages) this.record(m);
    await this.catchUp(sock, reply.seq);
    this.joined = true;
    void this.sendLoop(sock);
  }

  /** chat.history after the last contiguous seq until `upTo` (or nothing more comes). */
  async catchUp(sock, upTo = Infinity) {
    while (this.contiguous < upTo) {
      const { messages } = await sock.call('chat.history', {
        room: this.room,
        after: this.contiguous,
        limit: 100,
      });
      if (messages.length === 0) return;
      const before = this.contiguous;
      for (const m of messages) this.record(m);
      if (this.contiguous === before) return; // a hole the history does not fill: reported by the checks
    }
  }

  async sendLoop(sock) {
    while (sock.open && this.joined && !this.stopping) {
      if (this.sending || this.pending) {
        this.pending ??= {
          clientMsgId: `${this.user}-${++this.sent}`,
          text: `m ${this.sent} of ${this.user}`,
        };
        const { clientMsgId, text } = this.pending;
        try {
          const f = await sock.request('chat.send', { room: this.room, text, clientMsgId });
          if (f.event === 'error') {
            this.errors.set(f.data.code, (this.errors.get(f.data.code) ?? 0) + 1);
            this.retries++;
            await sleep(200);
          } else {
            const { message } = f.data;
            this.acked.set(clientMsgId, { id: message.id, seq: message.seq });
            this.record(message);
            this.pending = undefined;
          }
        } catch {
          this.retries++; // timed out or closed: the same clientMsgId goes again
        }
      }
      await sleep(250 + Math.random() * 200);
    }
  }

  /** Stops sending new messages; resolves once the one in flight is acknowledged (or `ms` passed). */
  async drain(ms) {
    this.sending = false;
    const deadline = Date.now() + ms;
    while (this.pending && Date.now() < deadline) await sleep(100);
  }

  async finalCatchUp() {
    if (this.sock?.open) await this.catchUp(this.sock).catch(() => undefined);
  }
}

/** Subscribed to one channel; resubscribes with since/epoch and checks what recovery claims. */
export class Subscriber extends Reconnecting {
  last = undefined;
  epoch = undefined;
  live = 0;
  liveGaps = 0;
  recoveredTrue = 0;
  recoveredFalse = 0;
  epochChanges = 0;
  violations = [];
  subscribed = false;
  buffered = [];

  constructor(cluster, user, home, channel) {
    super(cluster, user, home);
    this.channel = channel;
  }

  push(f) {
    if (f.event !== 'channel.message' || f.data.channel !== this.channel) return;
    if (!this.subscribed) this.buffered.push(f.data);
    else this.onPublication(f.data);
  }

  onPublication(p) {
    if (p.offset <= this.last) return;
    this.live++;
    if (p.offset !== this.last + 1) this.liveGaps++;
    this.last = p.offset;
  }

  async ready(sock) {
    this.subscribed = false;
    this.buffered = [];
    const resume = this.epoch === undefined ? {} : { since: this.last, epoch: this.epoch };
    const reply = await sock.call('channel.subscribe', { channel: this.channel, ...resume });
    if (this.epoch !== undefined) {
      const offsets = reply.publications.map((p) => p.offset);
      if (reply.epoch !== this.epoch) {
        this.epochChanges++;
        if (reply.recovered)
          this.violations.push(`recovered:true across an epoch change (${this.channel})`);
      } else if (reply.recovered) {
        this.recoveredTrue++;
        const expected = Array.from(
          { length: reply.offset - this.last },
          (_, i) => this.last + 1 + i,
        );
        if (JSON.stringify(offsets) !== JSON.stringify(expected))
          this.violations.push(
            `recovered:true with a gap: since ${this.last}, got [${offsets}] up to ${reply.offset}`,
          );
      } else this.recoveredFalse++;
    }
    this.epoch = reply.epoch;
    this.last = reply.offset;
    this.subscribed = true;
    for (const p of this.buffered.splice(0)) this.onPublication(p);
  }
}

/**
 * Joins rooms and keeps each room's members from the join reply and the presence pushes, by the contract's rule:
 * a push whose `v` is not above what it holds for that (room, user) is dropped.
 */
export class Observer extends Reconnecting {
  views = new Map(); // room → Map(userId → {present, v})
  pushes = 0;
  staleDropped = 0;
  outOfOrder = 0; // a push of one socket older than the previous push of the same (room, user)
  lastPushed = new Map();

  constructor(cluster, user, home, rooms) {
    super(cluster, user, home);
    this.rooms = rooms;
  }

  async ready(sock) {
    this.lastPushed.clear();
    for (const room of this.rooms) {
      this.joining = { room, buffered: [] };
      const reply = await sock.call('chat.join', { room });
      const view = new Map();
      for (const m of reply.members) view.set(m.userId, { present: true, v: m.v });
      this.views.set(room, view);
      // Pushes that arrived before the reply: the same rule against what the reply says.
      for (const f of this.joining.buffered) this.apply(f);
      this.joining = undefined;
    }
  }

  push(f) {
    if (!['presence.join', 'presence.leave', 'presence.update'].includes(f.event)) return;
    this.pushes++;
    const { room } = f.data;
    const userId = f.data.userId ?? f.data.member?.userId;
    const v = f.data.v ?? f.data.member?.v;
    const key = `${room}\n${userId}`;
    if (typeof v !== 'number' || v <= (this.lastPushed.get(key) ?? -1)) this.outOfOrder++;
    this.lastPushed.set(key, v);
    if (this.joining?.room === room) this.joining.buffered.push(f);
    else this.apply(f);
  }

  apply(f) {
    const { room } = f.data;
    const userId = f.data.userId ?? f.data.member?.userId;
    const v = f.data.v ?? f.data.member?.v;
    const view = this.views.get(room) ?? new Map();
    this.views.set(room, view);
    const held = view.get(userId);
    if (held && v <= held.v) {
      this.staleDropped++;
      return;
    }
    view.set(userId, { present: f.event !== 'presence.leave', v });
  }

  members(room) {
    return [...(this.views.get(room) ?? [])]
      .filter(([, s]) => s.present)
      .map(([u]) => u)
      .sort();
  }
}

/** A socket of its own user in one room: the crowd that reconnects all at once. */
export class CrowdMember extends Reconnecting {
  constructor(cluster, user, home, room) {
    super(cluster, user, home);
    this.room = room;
    this.joined = false;
  }

  async ready(sock) {
    await sock.call('chat.join', { room: this.room }, 30_000);
    this.joined = true;
  }

  backoff(attempt) {
    return attempt === 0 ? 0 : 300 + Math.random() * 700;
  }

  /** Drops the socket without a close handshake; run() reconnects at once. */
  drop() {
    this.joined = false;
    this.sock?.terminate();
  }
}
