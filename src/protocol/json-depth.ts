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

/** What {@link parseFrame} returns for a frame nested too deeply: only its top-level `id`, if it had one. */
export class TooDeepFrame {
  constructor(readonly id: string | number | undefined) {}
}

/**
 * JSON.parse for client frames, with the depth bound checked FIRST: V8 parses a 16,000-level frame in several
 * milliseconds, so a too deep frame is never parsed. Its top-level `id` is still read (one more O(bytes) pass), so
 * that the `bad_request` answer carries it like any other error.
 */
export function parseFrame(raw: Buffer): unknown {
  if (exceedsJsonDepth(raw)) return new TooDeepFrame(topLevelId(raw));
  return JSON.parse(raw.toString('utf8'));
}

const COLON = 0x3a;
const COMMA = 0x2c;

/**
 * The `id` member of the top-level object (a string or a finite number), read without parsing anything else: keys
 * are tracked at depth 1 only, and the last `id` wins as with JSON.parse. Undefined when absent or of another type.
 */
export function topLevelId(bytes: Uint8Array): string | number | undefined {
  let id: string | number | undefined;
  let depth = 0;
  let expectKey = false;
  let afterIdKey = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === QUOTE) {
      const end = stringEnd(bytes, i);
      if (depth === 1 && expectKey) {
        afterIdKey = decodeJson(bytes, i, end + 1) === 'id';
        expectKey = false;
      } else if (depth === 1 && afterIdKey) {
        const value = decodeJson(bytes, i, end + 1);
        if (typeof value === 'string') id = value;
        afterIdKey = false;
      }
      i = end;
    } else if (b === OPEN_BRACKET || b === OPEN_BRACE) {
      depth++;
      expectKey = depth === 1 && b === OPEN_BRACE;
      if (depth === 2) afterIdKey = false;
    } else if (b === CLOSE_BRACKET || b === CLOSE_BRACE) {
      depth--;
    } else if (depth === 1 && b === COMMA) {
      expectKey = true;
      afterIdKey = false;
    } else if (depth === 1 && afterIdKey && b !== COLON && !isSpace(b)) {
      // A number (or true/false/null): up to the next delimiter.
      let end = i;
      while (end < bytes.length && !isDelimiter(bytes[end])) end++;
      const value = decodeJson(bytes, i, end);
      if (typeof value === 'number' && Number.isFinite(value)) id = value;
      afterIdKey = false;
      i = end - 1;
    }
  }
  return id;
}

/** Index of the quote that closes the string opening at `start` (or the last index when unterminated). */
function stringEnd(bytes: Uint8Array, start: number): number {
  for (let i = start + 1; i < bytes.length; i++) {
    if (bytes[i] === BACKSLASH) i++;
    else if (bytes[i] === QUOTE) return i;
  }
  return bytes.length - 1;
}

function decodeJson(bytes: Uint8Array, start: number, end: number): unknown {
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString());
  } catch {
    return undefined;
  }
}

const isSpace = (b: number): boolean => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
const isDelimiter = (b: number): boolean =>
  b === COMMA || b === CLOSE_BRACE || b === CLOSE_BRACKET || isSpace(b);
