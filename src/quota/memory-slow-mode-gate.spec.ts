import { MemorySlowModeGate } from './memory-slow-mode-gate';

describe('MemorySlowModeGate', () => {
  it('lets one send per interval through, tells how long to wait, and takes a slot back', async () => {
    const gate = new MemorySlowModeGate();
    expect(await gate.take('r', 'u', 60_000)).toBe(0);
    const wait = await gate.take('r', 'u', 60_000);
    expect(wait).toBeGreaterThan(59_000);
    expect(wait).toBeLessThanOrEqual(60_000);
    expect(await gate.take('r', 'other', 60_000)).toBe(0);
    expect(await gate.take('other', 'u', 60_000)).toBe(0);
    await gate.release('r', 'u');
    expect(await gate.take('r', 'u', 60_000)).toBe(0);
  });

  it('holds at most maxEntries slots: the oldest goes first', async () => {
    const gate = new MemorySlowModeGate(100);
    for (let i = 0; i < 1000; i++) expect(await gate.take('r', `u${i}`, 60_000)).toBe(0);
    expect(gate.size).toBeLessThanOrEqual(100);
    expect(await gate.take('r', 'u999', 60_000)).toBeGreaterThan(0);
    expect(await gate.take('r', 'u0', 60_000)).toBe(0);
  });
});
