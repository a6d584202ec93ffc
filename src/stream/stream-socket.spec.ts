import type { ServerResponse } from 'node:http';
import { frameText } from '../protocol/frames';
import { StreamSink } from './stream-socket';

/** A stand-in response that records each write: the sink's contract is what it hands to `res.write`. */
function recorder(): { res: ServerResponse; writes: string[] } {
  const writes: string[] = [];
  const res = {
    destroyed: false,
    writableEnded: false,
    writableLength: 0,
    write: (chunk: Buffer | string): boolean => (writes.push(chunk.toString()), true),
  } as unknown as ServerResponse;
  return { res, writes };
}

describe('StreamSink', () => {
  const short = frameText('{"event":"a"}');
  const medium = frameText(JSON.stringify({ event: 'b', data: 'x'.repeat(300) })); // 4-byte header
  const long = frameText(JSON.stringify({ event: 'c', data: 'y'.repeat(70_000) })); // 10-byte header

  it('writes each WebSocket frame as an SSE data line, whatever its header size', () => {
    const { res, writes } = recorder();
    const sink = new StreamSink(res, 'sse');
    for (const frame of [short, medium, long]) sink.write(frame);
    expect(writes.map((w) => w.slice(0, 16))).toEqual([
      'data: {"event":"',
      'data: {"event":"',
      'data: {"event":"',
    ]);
    expect(writes.every((w) => w.endsWith('}\n\n'))).toBe(true);
    expect(JSON.parse(writes[2].slice(6)).data).toHaveLength(70_000);
  });

  it('writes the frames of one turn (cork … uncork) as one chunk of JSON lines', () => {
    const { res, writes } = recorder();
    const sink = new StreamSink(res, 'stream');
    sink.cork();
    sink.write(short);
    sink.write(medium);
    sink.uncork();
    expect(writes).toHaveLength(1);
    const lines = writes[0].split('\n');
    expect(lines.map((l) => (l ? (JSON.parse(l) as { event: string }).event : ''))).toEqual([
      'a',
      'b',
      '',
    ]);
  });
});
