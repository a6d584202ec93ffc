#!/usr/bin/env node
/**
 * The two plain-`ws` comparison servers of `npm run bench` (scripts/bench/run.mjs), one file, two write paths:
 *
 *   --mode=naive      for every push, JSON.stringify + ws.send() per recipient: what most hand-written servers do;
 *   --mode=coalesced  every push serialized and framed ONCE; each socket's frames of one event-loop turn are
 *                     queued and written in setImmediate with one corked write (one writev). This is the floor:
 *                     it does nothing but frame once and write, so Hubbub should cost no more than it.
 *
 * Both speak the subset of Hubbub's protocol the load client uses: upgrade on /ws with `Authorization: Bearer
 * <HS256 JWT>` (checked), a `welcome` push, `channel.subscribe`, `channel.publish` (→ `channel.message` to every
 * other subscriber, reply `{offset}`), `ping` → `pong`. Environment: PORT, HOST, JWT_SECRET.
 */
import { randomUUID } from 'node:crypto';
import { WebSocketServer } from 'ws';
import { HOST, PORT, frameText, httpServer, onSignals, verifyToken } from './common.mjs';

const MODE = process.argv.find((a) => a.startsWith('--mode='))?.slice(7) ?? 'coalesced';
if (MODE !== 'naive' && MODE !== 'coalesced') throw new Error(`unknown --mode=${MODE}`);

/** channel → { offset, subscribers: Set<ws> } */
const channels = new Map();

// ── the write path ──
let dirty = [];
let scheduled = false;
function flushAll() {
  scheduled = false;
  const list = dirty;
  dirty = [];
  for (const ws of list) {
    const frames = ws.pending;
    ws.pending = null;
    const socket = ws._socket;
    if (socket.destroyed) continue;
    if (frames.length === 1) socket.write(frames[0]);
    else {
      socket.cork();
      for (const f of frames) socket.write(f);
      socket.uncork();
    }
  }
}
/** Coalesced: queue a finished frame for this socket's next flush. */
function queue(ws, frame) {
  if (ws.pending === null) {
    ws.pending = [frame];
    dirty.push(ws);
    if (!scheduled) ((scheduled = true), setImmediate(flushAll));
  } else ws.pending.push(frame);
}

function send(ws, event, id, data) {
  const text = JSON.stringify(id === undefined ? { event, data } : { event, id, data });
  if (MODE === 'naive') ws.send(text);
  else queue(ws, frameText(text));
}

function channelState(name) {
  let state = channels.get(name);
  if (!state) channels.set(name, (state = { offset: 0, subscribers: new Set() }));
  return state;
}

function publish(ws, channel, data) {
  const state = channelState(channel);
  const publication = { channel, offset: ++state.offset, data, userId: ws.userId, ts: Date.now() };
  if (MODE === 'naive') {
    for (const sub of state.subscribers)
      if (sub !== ws) sub.send(JSON.stringify({ event: 'channel.message', data: publication }));
  } else {
    const frame = frameText(JSON.stringify({ event: 'channel.message', data: publication }));
    for (const sub of state.subscribers) if (sub !== ws) queue(sub, frame);
  }
  return { offset: publication.offset };
}

function onMessage(raw) {
  const ws = this;
  let msg;
  try {
    msg = JSON.parse(raw);
  } catch {
    return send(ws, 'error', undefined, { code: 'bad_json', message: 'Invalid JSON' });
  }
  const { event, id, data } = msg ?? {};
  switch (event) {
    case 'channel.subscribe': {
      const state = channelState(data.channel);
      state.subscribers.add(ws);
      ws.channels.add(data.channel);
      return send(ws, event, id, {
        channel: data.channel,
        offset: state.offset,
        recovered: true,
        publications: [],
      });
    }
    case 'channel.publish':
      return send(ws, event, id, publish(ws, data.channel, data.data));
    case 'ping':
      return send(ws, 'pong', id, { serverTime: Date.now() });
    default:
      return send(ws, 'error', id, { code: 'unknown_event', message: `Unknown event "${event}"` });
  }
}
function onClose() {
  for (const channel of this.channels) channels.get(channel)?.subscribers.delete(this);
}
const ignore = () => undefined;

const http = httpServer();
const wss = new WebSocketServer({
  noServer: true,
  perMessageDeflate: false,
  clientTracking: false,
});
http.on('upgrade', (req, socket, head) => {
  const userId = verifyToken(/^Bearer\s+(\S+)/i.exec(req.headers.authorization ?? '')?.[1]);
  if (!req.url?.startsWith('/ws') || !userId) {
    socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.userId = userId;
    ws.channels = new Set();
    ws.pending = null;
    ws.on('message', onMessage);
    ws.on('error', ignore);
    ws.on('close', onClose);
    send(ws, 'welcome', undefined, {
      clientId: randomUUID(),
      userId,
      node: MODE,
      heartbeatMs: 0,
      serverTime: Date.now(),
    });
  });
});
http.listen(PORT, HOST);
onSignals();
