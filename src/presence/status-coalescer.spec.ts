import { StatusCoalescer } from './status-coalescer';

describe('StatusCoalescer', () => {
  it('hands over one batch per period, each user with the union of their rooms', async () => {
    const batches: [string, string[]][][] = [];
    let delivered!: () => void;
    const done = new Promise<void>((resolve) => (delivered = resolve));
    const coalescer = new StatusCoalescer(20, (changes) => {
      batches.push([...changes].map(([user, rooms]) => [user, [...rooms].sort()]));
      delivered();
      return Promise.resolve();
    });
    for (let i = 0; i < 35; i++) coalescer.add('alice', i % 2 ? ['r1', 'r2'] : ['r2', 'r3']);
    coalescer.add('bob', ['r1']);
    await done;
    expect(batches).toEqual([
      [
        ['alice', ['r1', 'r2', 'r3']],
        ['bob', ['r1']],
      ],
    ]);
    coalescer.stop();
  });

  it('does not start the next batch before the previous one was pushed', async () => {
    const order: string[] = [];
    let release!: () => void;
    const first = new Promise<void>((resolve) => (release = resolve));
    let second!: () => void;
    const secondDone = new Promise<void>((resolve) => (second = resolve));
    const coalescer = new StatusCoalescer(5, async (changes) => {
      const users = [...changes.keys()].join();
      order.push(`start ${users}`);
      if (users === 'alice') {
        coalescer.add('bob', ['r']);
        await first;
      }
      order.push(`end ${users}`);
      if (users === 'bob') second();
    });
    coalescer.add('alice', ['r']);
    // Bob's batch is due 5 ms after he was added; alice's push is held far longer than that.
    setTimeout(release, 50);
    await secondDone;
    expect(order).toEqual(['start alice', 'end alice', 'start bob', 'end bob']);
    coalescer.stop();
  });
});
