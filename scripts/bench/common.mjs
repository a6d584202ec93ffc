/**
 * What the comparison servers of scripts/bench/ share: the HS256 JWT check (node:crypto, as a hand-written server
 * would do it), a /health endpoint, and the server side of the frames the load client speaks.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

export const PORT = Number(process.env.PORT ?? 3001);
export const HOST = process.env.HOST ?? '127.0.0.1';
export const SECRET = process.env.JWT_SECRET;
if (!SECRET) {
  console.error('bench server: JWT_SECRET is required');
  process.exit(1);
}

/** The token's `sub` when it is a valid, unexpired HS256 JWT signed with SECRET, else undefined. */
export function verifyToken(token) {
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

export function httpServer() {
  return createServer((req, res) => {
    res.writeHead(req.url === '/health' ? 200 : 404, { 'content-type': 'application/json' });
    res.end('{}');
  });
}

/** A finished, unmasked WebSocket text frame (what Hubbub's protocol/frames.ts frameText builds). */
export function frameText(payload) {
  const length = Buffer.byteLength(payload);
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x81;
  if (length < 126) frame[1] = length;
  else if (length < 65536) ((frame[1] = 126), frame.writeUInt16BE(length, 2));
  else ((frame[1] = 127), frame.writeBigUInt64BE(BigInt(length), 2));
  frame.write(payload, headerLength, 'utf8');
  return frame;
}

export function onSignals() {
  process.once('SIGTERM', () => process.exit(0));
  process.once('SIGINT', () => process.exit(0));
}
