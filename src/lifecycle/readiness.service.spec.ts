import type { Broker } from '../broker/broker';
import type { HubbubConfig } from '../config/config';
import type { MessageStore } from '../store/message-store';
import { DrainState } from '../ws/drain-state.service';
import type { NodeLiveness } from './node-liveness.service';
import { Readiness } from './readiness.service';

/** A Readiness over stand-ins that are all healthy until a test breaks one of them. */
function setup(mode: 'single' | 'cluster') {
  const config = {
    redis: mode === 'cluster' ? { url: 'redis://127.0.0.1:6379' } : undefined,
  } as HubbubConfig;
  const drain = new DrainState();
  let pingError: unknown;
  const store = {
    ping: () =>
      pingError === undefined
        ? Promise.resolve()
        : // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a driver may reject with anything
          Promise.reject(pingError),
  } as MessageStore;
  let healthy = true;
  const broker = { isHealthy: () => healthy } as Broker;
  const liveness = { synced: true } as NodeLiveness;
  return {
    readiness: new Readiness(config, drain, store, broker, liveness),
    drain,
    liveness,
    failPing: (err: unknown) => (pingError = err),
    cutBroker: () => (healthy = false),
  };
}

describe('Readiness', () => {
  it('is ready on a single instance with instance and store up, and reports no redis', async () => {
    const { readiness } = setup('single');
    expect(await readiness.checks()).toEqual([
      { component: 'instance', up: true },
      { component: 'store', up: true },
    ]);
    expect(await readiness.ready()).toBe(true);
  });

  it('is ready in cluster mode with instance, store and redis up', async () => {
    const { readiness } = setup('cluster');
    expect(await readiness.checks()).toEqual([
      { component: 'instance', up: true },
      { component: 'store', up: true },
      { component: 'redis', up: true },
    ]);
    expect(await readiness.ready()).toBe(true);
  });

  it('is not ready while the instance drains', async () => {
    const { readiness, drain } = setup('cluster');
    drain.draining = true;
    expect(await readiness.checks()).toEqual([
      { component: 'instance', up: false, message: 'draining' },
      { component: 'store', up: true },
      { component: 'redis', up: true },
    ]);
    expect(await readiness.ready()).toBe(false);
  });

  it("is not ready while the store does not answer, with the ping's error as the message", async () => {
    const { readiness, failPing } = setup('single');
    failPing(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
    expect(await readiness.checks()).toContainEqual({
      component: 'store',
      up: false,
      message: 'connect ECONNREFUSED 127.0.0.1:5432',
    });
    expect(await readiness.ready()).toBe(false);

    failPing('not an Error');
    expect(await readiness.checks()).toContainEqual({
      component: 'store',
      up: false,
      message: 'unreachable',
    });
    expect(await readiness.ready()).toBe(false);
  });

  it('is not ready in cluster mode while the broker cannot reach Redis', async () => {
    const { readiness, cutBroker } = setup('cluster');
    cutBroker();
    expect(await readiness.checks()).toContainEqual({
      component: 'redis',
      up: false,
      message: 'unreachable',
    });
    expect(await readiness.ready()).toBe(false);
  });

  it("is not ready in cluster mode while this instance's state in Redis is written back", async () => {
    const { readiness, liveness } = setup('cluster');
    liveness.synced = false;
    expect(await readiness.checks()).toContainEqual({
      component: 'redis',
      up: false,
      message: 'resyncing',
    });
    expect(await readiness.ready()).toBe(false);
  });
});
