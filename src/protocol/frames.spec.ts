import type { Writable } from 'node:stream';
import * as ws from 'ws';

// ws exports its frame parser at runtime, but @types/ws does not declare it.
const { Receiver } = ws as unknown as {
  Receiver: new (options: { isServer: boolean }) => Writable;
};
import { encodeReply, frameText } from './frames';

/** Decodes a server frame with ws's own parser, so the header logic is checked against a real implementation. */
function parse(frame: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const receiver = new Receiver({ isServer: false });
    receiver.on('message', (data: Buffer, isBinary: boolean) =>
      isBinary ? reject(new Error('binary')) : resolve(data.toString()),
    );
    receiver.on('error', reject);
    receiver.write(frame);
  });
}

describe('frameText', () => {
  it.each([
    ['a 7-bit length', 125, 2],
    ['a 16-bit length', 126, 4],
    ['a 16-bit length at its maximum', 65535, 4],
    ['a 64-bit length', 65536, 10],
  ])('frames a payload needing %s as one unmasked text frame', async (_label, size, header) => {
    const payload = 'x'.repeat(size);
    const frame = frameText(payload);
    expect(frame.length).toBe(size + header);
    expect(await parse(frame)).toBe(payload);
  });

  it('counts UTF-8 bytes, not characters', async () => {
    const payload = JSON.stringify({ text: 'héllo 👋'.repeat(30) });
    expect(await parse(frameText(payload))).toBe(payload);
  });
});

describe('encodeReply', () => {
  it('puts the id between event and data, and leaves it out when there is none', () => {
    expect(encodeReply('pong', 7, { ts: 1 })).toBe('{"event":"pong","id":7,"data":{"ts":1}}');
    expect(encodeReply('error', undefined, { code: 'bad_json' })).toBe(
      '{"event":"error","data":{"code":"bad_json"}}',
    );
  });
});
