#!/usr/bin/env node
/**
 * The yardstick for `npm run bench`: a hand-written plain `ws` server that does Hubbub's channel fan-out the
 * naive way, with none of Hubbub's machinery (no Nest, no validation, no frame-once writer).
 *
 * It speaks just enough of the Hubbub protocol for the same load client to drive it:
 *   - handshake on /ws with `Authorization: Bearer <HS256 JWT>` (checked, so connecting costs about the same),
 *     then a `welcome` push;
 *   - `channel.subscribe {channel}` → reply `{channel, offset, recovered: true, publications: []}`;
 *   - `channel.publish {channel, data}` → `channel.message` push of `{channel, offset, data, ts, userId}` to
 *     every other subscriber, then reply `{offset}`;
 *   - `ping` → `pong`; anything else → `error unknown_event`.
 * Plus `GET /health` so the bench can wait for it to be up.
 *
 * "Naive" on purpose: each incoming frame is JSON.parse'd, and each push is JSON.stringify'd and ws.send()'d
 * separately for every subscriber — what most hand-rolled servers do.
 *
 * Environment: PORT (3001), HOST (127.0.0.1), JWT_SECRET (required).
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const PORT = Number(process.env.PORT ?? 3001);
const HOST = process.env.HOST ?? '127.0.0.1';
const SECRET = process.env.JWT_SECRET;
if (!SECRET) {
  console.error('bench-baseline: JWT_SECRET is required');
  process.exit(1);
}

/** channel name → { offset, subscribers } */
const channels = new Map();

/** Returns the token's `sub` when it is a valid, unexpired HS256 JWT signed with SECRET, else undefined. */
function verifyToken(token) {
  const parts = token?.split('.');
  if (parts?.length !== 3) return undefined;
  const expected = createHmac('sha256', SECRET).update(`${parts[0]}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2], 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString());
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
    if (
      header.alg !== 'HS256' ||
      typeof claims.sub !== 'string' ||
      !(claims.exp * 1000 > Date.now())
    )
      return undefined;
    return claims.sub;
  } catch {
    return undefined;
  }
}

function send(ws, event, id, data) {
  ws.send(JSON.stringify(id === undefined ? { event, data } : { event, id, data }));
}

function subscribe(ws, channel) {
  let state = channels.get(channel);
  if (!state) channels.set(channel, (state = { offset: 0, subscribers: new Set() }));
  state.subscribers.add(ws);
  ws.channels.add(channel);
  return { channel, offset: state.offset, recovered: true, publications: [] };
}

function publish(ws, channel, data) {
  let state = channels.get(channel);
  if (!state) channels.set(channel, (state = { offset: 0, subscribers: new Set() }));
  const publication = { channel, offset: ++state.offset, data, ts: Date.now(), userId: ws.userId };
  for (const subscriber of state.subscribers) {
    // The naive part: one serialization and one framed send per recipient.
    if (subscriber !== ws)
      subscriber.send(JSON.stringify({ event: 'channel.message', data: publication }));
  }
  return { offset: publication.offset };
}

function onMessage(ws, raw) {
  let msg;
  try {
    msg = JSON.parse(raw);
  } catch {
    return send(ws, 'error', undefined, { code: 'bad_json', message: 'Invalid JSON' });
  }
  const { event, id, data } = msg ?? {};
  switch (event) {
    case 'channel.subscribe':
      return send(ws, event, id, subscribe(ws, data.channel));
    case 'channel.publish': {
      const result = publish(ws, data.channel, data.data);
      return id === undefined ? undefined : send(ws, event, id, result);
    }
    case 'ping':
      return send(ws, 'pong', id, { ts: Date.now() });
    default:
      return send(ws, 'error', id, { code: 'unknown_event', message: `Unknown event "${event}"` });
  }
}

const http = createServer((req, res) => {
  res.writeHead(req.url === '/health' ? 200 : 404, { 'content-type': 'application/json' });
  res.end('{}');
});
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
    ws.on('message', (raw) => onMessage(ws, raw));
    ws.on('error', () => undefined);
    ws.on('close', () => {
      for (const channel of ws.channels) channels.get(channel)?.subscribers.delete(ws);
    });
    send(ws, 'welcome', undefined, {
      clientId: randomUUID(),
      userId,
      node: 'baseline',
      heartbeatMs: 0,
      serverTime: Date.now(),
    });
  });
});

http.listen(PORT, HOST);
process.once('SIGTERM', () => process.exit(0));
process.once('SIGINT', () => process.exit(0));
