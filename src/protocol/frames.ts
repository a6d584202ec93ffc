/**
 * Frame building for the hot path. A push is serialized and framed ONCE, then the very same Buffer is written to
 * every recipient's TCP socket. Server-to-client frames are never masked, and permessage-deflate is off, so a
 * finished WebSocket frame is just a 2-10 byte header followed by the UTF-8 payload.
 */
export type MessageId = string | number;

export interface PushFrame {
  event: string;
  data: unknown;
}

export function frameText(payload: string): Buffer {
  const length = Buffer.byteLength(payload);
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x81; // FIN + text opcode
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  frame.write(payload, headerLength, 'utf8');
  return frame;
}

export function encodePush(event: string, data: unknown): string {
  return JSON.stringify({ event, data });
}

export function encodeReply(event: string, id: MessageId | undefined, data: unknown): string {
  return id === undefined ? JSON.stringify({ event, data }) : JSON.stringify({ event, id, data });
}

/**
 * The event name of a success reply is the request's own, except where the contract names another: `ping` is
 * answered by `pong`. This table is the only place such a rename lives.
 */
const REPLY_EVENTS: Readonly<Record<string, string>> = { ping: 'pong' };

export function replyEvent(requestEvent: string): string {
  return REPLY_EVENTS[requestEvent] ?? requestEvent;
}
