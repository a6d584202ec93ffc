import { PresenceOrder } from './presence-order';

describe('PresenceOrder', () => {
  let order: PresenceOrder;
  beforeEach(() => {
    jest.useFakeTimers();
    order = new PresenceOrder(1000);
  });
  afterEach(() => {
    order.stop();
    jest.useRealTimers();
  });

  it('admits a push newer than every one sent for that (room, user), and never an older or equal one', () => {
    expect(order.admit('r', 'u', 10)).toBe(true);
    expect(order.admit('r', 'u', 9)).toBe(false); // the old leave after the new join
    expect(order.admit('r', 'u', 10)).toBe(false);
    expect(order.admit('r', 'u', 11)).toBe(true);
    expect(order.admit('r', 'other', 1)).toBe(true); // keys are independent
    expect(order.admit('s', 'u', 1)).toBe(true);
  });

  it('remembers a key for one to two periods after its last push, then forgets it', () => {
    order.admit('r', 'u', 10);
    jest.advanceTimersByTime(1000);
    expect(order.admit('r', 'u', 5)).toBe(false); // one rotation: still known
    jest.advanceTimersByTime(2000);
    expect(order.admit('r', 'u', 5)).toBe(true); // two rotations without a push: forgotten
  });
});
