import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { raw } from 'express';
import type { HubbubConfig } from '../config/config';
import { MAX_JSON_DEPTH } from '../protocol/json-depth';

/** Frames one `POST /stream/send` may carry (contract section 10). */
export const MAX_SEND_FRAMES = 64;
export const SEND_PATH = '/stream/send';

/** JSON around the frames of a full send: the session, the keys, commas, quotes of string frames. */
const SEND_ENVELOPE_BYTES = 16 * 1024;

/**
 * `POST /stream/send` carries up to 64 frames of up to MAX_PAYLOAD_BYTES each, more than the JSON body limit of the
 * other routes (100 kB), and each frame must reach the FrameRouter as the text it would be on a socket (so that a
 * frame nested too deep gets the socket's `bad_request` frame, not the HTTP 400 of a deep body). So its body is
 * read raw, up to 64 × MAX_PAYLOAD_BYTES and the envelope (past it: 413), before the JSON parser of every other route
 * (which then skips it). In a team's app, where Hubbub does not own the body parsers, the app's JSON parser reads
 * it (its own limit applies) and the controller takes the parsed body.
 */
export function applyStreamBodies(app: INestApplication, config: HubbubConfig): void {
  const limit = MAX_SEND_FRAMES * config.maxPayloadBytes + SEND_ENVELOPE_BYTES;
  (app as NestExpressApplication).use(SEND_PATH, raw({ type: () => true, limit }));
}

export type SendBody =
  | { ok: true; session: string; frames: string[] }
  | { ok: false; status: 400 | 413; message: string | string[] };

/** A send's body: `{session, frames: [frame…]}`, each frame an object (or its JSON text); sized per contract. */
export function parseSendBody(body: unknown, maxPayloadBytes: number): SendBody {
  let value = body;
  if (Buffer.isBuffer(body)) {
    if (body.length === 0) value = undefined;
    else {
      try {
        value = JSON.parse(body.toString('utf8'));
      } catch {
        return { ok: false, status: 400, message: 'Malformed JSON body' };
      }
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, status: 400, message: ['body must be an object {session, frames}'] };
  }
  const { session, frames } = value as { session?: unknown; frames?: unknown };
  const errors: string[] = [];
  if (typeof session !== 'string' || session.length === 0 || session.length > 256)
    errors.push('session must be a string of 1 to 256 characters');
  if (!Array.isArray(frames) || frames.length === 0)
    errors.push('frames must be an array of 1 to 64 frames');
  if (errors.length > 0) return { ok: false, status: 400, message: errors };
  const list = frames as unknown[];
  if (list.length > MAX_SEND_FRAMES) {
    return { ok: false, status: 413, message: `more than ${MAX_SEND_FRAMES} frames` };
  }
  const texts: string[] = [];
  for (const frame of list) {
    const text = frameText(frame);
    if (Buffer.byteLength(text) > maxPayloadBytes) {
      return { ok: false, status: 413, message: `a frame is over ${maxPayloadBytes} bytes` };
    }
    texts.push(text);
  }
  return { ok: true, session: session as string, frames: texts };
}

/** A frame as the text a socket would carry: a string as it is, anything else as its JSON. */
function frameText(frame: unknown): string {
  if (typeof frame === 'string') return frame;
  try {
    return JSON.stringify(frame) ?? 'null';
  } catch {
    // Too deep for JSON.stringify's stack: still deeper than a frame may be, so it is answered as one.
    return '['.repeat(MAX_JSON_DEPTH + 1);
  }
}
