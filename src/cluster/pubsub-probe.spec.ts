import { PubSubProbe, type ProbedSubscription } from './pubsub-probe';

/** A subscription whose probes come back only while `delivering`; rebuilds are counted. */
function fakeSubscription() {
  const state = { delivering: true, connected: true, rebuilds: 0, sent: [] as string[] };
  let probe: PubSubProbe | undefined;
  const target: ProbedSubscription = {
    channel: 'probe',
    connected: () => state.connected,
    publish: (payload) => {
      state.sent.push(payload);
      if (state.delivering) queueMicrotask(() => probe?.received(payload));
      return Promise.resolve(1);
    },
    rebuild: () => {
      state.rebuilds++;
      state.delivering = true; // the new connection delivers
    },
  };
  return { state, target, attach: (p: PubSubProbe) => (probe = p) };
}

describe('PubSubProbe', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('stays healthy while probes come back, and sends one per interval', async () => {
    const { state, target, attach } = fakeSubscription();
    const probe = attach(new PubSubProbe(target, 100, 'test'));
    for (let i = 0; i < 5; i++) await jest.advanceTimersByTimeAsync(100);
    expect(state.sent).toHaveLength(5);
    expect(probe.healthy).toBe(true);
    expect(state.rebuilds).toBe(0);
    probe.stop();
  });

  it('a probe not back by the next round: unhealthy, rebuilt, healthy again once a probe returns', async () => {
    const { state, target, attach } = fakeSubscription();
    const probe = attach(new PubSubProbe(target, 100, 'test'));
    await jest.advanceTimersByTimeAsync(100);
    state.delivering = false;
    await jest.advanceTimersByTimeAsync(100); // sends a probe that is lost
    expect(probe.healthy).toBe(true);
    await jest.advanceTimersByTimeAsync(100); // judges it: lost
    expect(probe.healthy).toBe(false);
    expect(state.rebuilds).toBe(1);
    await jest.advanceTimersByTimeAsync(100); // a new probe through the rebuilt connection
    expect(probe.healthy).toBe(true);
    expect(probe.failures).toBe(1);
    probe.stop();
  });

  it('judges nothing while the connection is down, or after a late round (the process stalled)', async () => {
    const { state, target, attach } = fakeSubscription();
    const probe = attach(new PubSubProbe(target, 100, 'test'));
    state.connected = false;
    for (let i = 0; i < 3; i++) await jest.advanceTimersByTimeAsync(100);
    expect(state.sent).toHaveLength(0);
    state.connected = true;
    state.delivering = false;
    await jest.advanceTimersByTimeAsync(100); // a probe goes out and is lost
    jest.setSystemTime(Date.now() + 5000); // a stall: the next round comes late
    await jest.advanceTimersByTimeAsync(100);
    expect(probe.healthy).toBe(true);
    expect(state.rebuilds).toBe(0);
    probe.stop();
  });
});
