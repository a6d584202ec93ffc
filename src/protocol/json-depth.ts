import { HubbubError } from './errors';

/** Deepest JSON nesting a client frame or HTTP body may have; deeper: `bad_request` (socket) or 400 (HTTP). */
export const MAX_JSON_DEPTH = 32;

/** The answer to a frame that nests too deeply (no state of the request to carry, so one instance serves all). */
export const TOO_DEEP = new HubbubError(
  'bad_request',
  `JSON nested deeper than ${MAX_JSON_DEPTH} levels`,
);

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * True when the JSON text nests arrays/objects deeper than `max` levels (`{}` at the top is level 1). One pass over
 * the bytes, no parsing and no recursion, so its cost is O(bytes) whatever the input. Brackets inside strings do not
 * count; a backslash escapes the next byte inside a string. Works on UTF-8 bytes directly: `"`, `\`, `[`, `{`, `]`
 * and `}` are ASCII and never occur inside a multi-byte sequence. Malformed text is not judged here (JSON.parse does).
 */
export function exceedsJsonDepth(text: Uint8Array | string, max = MAX_JSON_DEPTH): boolean {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) {
      inString = true;
    } else if (b === OPEN_BRACKET || b === OPEN_BRACE) {
      if (++depth > max) return true;
    } else if (b === CLOSE_BRACKET || b === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}
