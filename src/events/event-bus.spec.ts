import { EventBus } from './event-bus';

describe('EventBus', () => {
  it('runs every listener of an event in order and resolves after the last one', async () => {
    const bus = new EventBus();
    const seen: string[] = [];
    bus.on('presence.left', async ({ room }) => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      seen.push(`a:${room}`);
    });
    bus.on('presence.left', ({ userId }) => void seen.push(`b:${userId}`));
    await bus.emit('presence.left', { room: 'lobby', userId: 'u1' });
    expect(seen).toEqual(['a:lobby', 'b:u1']);
  });

  it('keeps going past a failing listener and never rejects to the emitter', async () => {
    const bus = new EventBus();
    const seen: string[] = [];
    bus.on('presence.joined', () => {
      throw new Error('boom');
    });
    bus.on('presence.joined', ({ userId }) => void seen.push(userId));
    await expect(bus.emit('presence.joined', { room: 'r', userId: 'u2' })).resolves.toBeUndefined();
    expect(seen).toEqual(['u2']);
  });

  it('emitOrThrow runs every listener, then rejects with the first failure', async () => {
    const bus = new EventBus();
    const seen: string[] = [];
    bus.on('cluster.state-lost', () => {
      throw new Error('first');
    });
    bus.on('cluster.state-lost', () => {
      seen.push('second ran');
      throw new Error('second');
    });
    await expect(
      bus.emitOrThrow('cluster.state-lost', { node: 'n1', reaped: false }),
    ).rejects.toThrow('first');
    expect(seen).toEqual(['second ran']);
  });

  it('tells whether an event has listeners', () => {
    const bus = new EventBus();
    expect(bus.has('chat.stored')).toBe(false);
    bus.on('chat.stored', () => undefined);
    expect(bus.has('chat.stored')).toBe(true);
  });

  it('runs listeners lowest priority first, equal priorities in the order they were added', async () => {
    const bus = new EventBus();
    const seen: string[] = [];
    bus.on('presence.left', () => void seen.push('default'));
    bus.on('presence.left', () => void seen.push('late'), 20);
    bus.on('presence.left', () => void seen.push('early'), -10);
    bus.on('presence.left', () => void seen.push('default 2'), 0);
    await bus.emit('presence.left', { room: 'r', userId: 'u' });
    expect(seen).toEqual(['early', 'default', 'default 2', 'late']);
  });
});
