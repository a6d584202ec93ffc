// Run by test/lifecycle/services-gate.e2e-spec.ts in a child jest, with TEST_REDIS_URL on a closed port.
import { servicesGate } from './services';

servicesGate('redis').describe('a block that needs Redis', () => {
  it('is skipped', () => undefined);
});
