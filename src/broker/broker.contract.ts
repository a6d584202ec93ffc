/**
 * Behaviour every Broker backend must share. Not a spec file itself: the backend specs call describeBroker().
 * Topics get a per-test random suffix, so a backend sharing one server needs no flushing between tests.
 */
import type { Broker, BrokerMessage } from './broker';

export interface BrokerHarness {
  /** A new, unstarted broker for the instance `node`. */
  open(node: string): Broker;
  /** Resolves once what `broker` wrote before (interest) has taken effect for the other instances. */
  settle(broker: Broker): Promise<void>;
  /** Loses the shared state (a Redis restart without persistence); only called when `spansInstances`. */
  loseState(): Promise<void>;
}

/**
 * `spansInstances`: brokers of different nodes reach each other (cluster backends). Otherwise each broker is an
 * instance on its own, and the block between instances is skipped.
 */
export function describeBroker(
  name: string,
  harness: () => BrokerHarness,
  { spansInstances }: { spansInstances: boolean },
): void {
  describe(`Broker contract: ${name}`, () => {
    let h: BrokerHarness;
    let run: string;
    const opened: Broker[] = [];
    /** Each started broker and the messages it received. */
    const received = new Map<Broker, BrokerMessage[]>();

    beforeEach(() => {
      h = harness();
      run = Math.random().toString(36).slice(2, 10);
    });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((b) => b.close()));
      received.clear();
    });

    const topic = (t: string) => `room:${run}-${t}`;
    async function start(node: string): Promise<Broker> {
      const broker = h.open(`${run}-${node}`);
      opened.push(broker);
      const inbox: BrokerMessage[] = [];
      received.set(broker, inbox);
      await broker.start((m) => inbox.push(m));
      return broker;
    }
    const got = (broker: Broker) => received.get(broker)!;
    /** Waits for the nth message of a broker: the event that proves delivery. */
    async function nth(broker: Broker, n: number): Promise<BrokerMessage[]> {
      const inbox = got(broker);
      for (let i = 0; inbox.length < n; i++) {
        if (i > 2_000) throw new Error(`${inbox.length} of ${n} messages arrived`);
        await new Promise((r) => setTimeout(r, 5));
      }
      return inbox;
    }

    it('delivers a publish to its own handler, topic, sender, payload and trace intact', async () => {
      const a = await start('a');
      a.interest(topic('x'), true);
      const message = { topic: topic('x'), except: 'c1', payload: '{"a":1}\n2', trace: 't' };
      await a.publish(message);
      expect(await nth(a, 1)).toEqual([message]);
    });

    it('delivers a broadcast topic to its own handler once', async () => {
      const a = await start('a');
      await a.publish({ topic: 'all', payload: run });
      await a.publish({ topic: topic('after'), payload: 'after' });
      a.interest(topic('after'), true);
      const inbox = await nth(a, 2);
      expect(inbox.filter((m) => m.payload === run)).toHaveLength(1);
    });

    it('is healthy once started, and restore() keeps delivering', async () => {
      const a = await start('a');
      expect(a.isHealthy()).toBe(true);
      a.interest(topic('x'), true);
      await a.restore();
      await a.restore();
      await a.publish({ topic: topic('x'), payload: 'p' });
      expect((await nth(a, 1)).map((m) => m.payload)).toEqual(['p']);
    });

    (spansInstances ? describe : describe.skip)('between instances', () => {
      it('delivers to an interested instance only, and to the publisher once', async () => {
        const [a, b, c] = [await start('a'), await start('b'), await start('c')];
        b.interest(topic('x'), true);
        c.interest(topic('y'), true);
        await Promise.all([h.settle(b), h.settle(c)]);
        await a.publish({ topic: topic('x'), payload: 'x' });
        await a.publish({ topic: topic('y'), payload: 'y' });
        expect((await nth(b, 1)).map((m) => m.payload)).toEqual(['x']);
        // Proof that `x` never reaches c: `y`, published after it, arrived alone.
        expect((await nth(c, 1)).map((m) => m.payload)).toEqual(['y']);
        expect(got(a).map((m) => m.payload)).toEqual(['x', 'y']);
      });

      it('delivers a broadcast topic to every instance once', async () => {
        const [a, b] = [await start('a'), await start('b')];
        b.interest(topic('after'), true);
        await h.settle(b);
        await a.publish({ topic: 'all', payload: run });
        await a.publish({ topic: topic('after'), payload: 'after' });
        const inbox = await nth(b, 2);
        expect(inbox.map((m) => m.payload)).toEqual([run, 'after']);
        expect(got(a).map((m) => m.payload)).toEqual([run, 'after']);
      });

      it('stops delivering once the interest is withdrawn', async () => {
        const [a, b] = [await start('a'), await start('b')];
        b.interest(topic('x'), true);
        b.interest(topic('y'), true);
        await h.settle(b);
        b.interest(topic('x'), false);
        await h.settle(b);
        await a.publish({ topic: topic('x'), payload: 'x' });
        await a.publish({ topic: topic('y'), payload: 'y' });
        expect((await nth(b, 1)).map((m) => m.payload)).toEqual(['y']);
      });

      it('stops sending to an instance once another one dropped it', async () => {
        const [a, b] = [await start('a'), await start('b')];
        b.interest(topic('x'), true);
        await h.settle(b);
        await a.dropNode(`${run}-b`);
        await a.publish({ topic: topic('x'), payload: 'x' });
        await a.publish({ topic: 'all', payload: 'all' });
        // Proof that `x` never reaches b: the broadcast published after it arrived alone.
        expect((await nth(b, 1)).map((m) => m.payload)).toEqual(['all']);
      });

      it('restore() writes the routes again after the shared state was lost', async () => {
        const [a, b] = [await start('a'), await start('b')];
        b.interest(topic('x'), true);
        await h.settle(b);
        await h.loseState();
        await b.restore();
        await a.publish({ topic: topic('x'), payload: 'x' });
        expect((await nth(b, 1)).map((m) => m.payload)).toEqual(['x']);
      });
    });
  });
}
