import { describeConnectionQuota } from './connection-quota.contract';
import { MemoryConnectionQuota } from './memory-connection-quota';

describeConnectionQuota(
  'memory',
  () =>
    Promise.resolve({
      open: () => new MemoryConnectionQuota(),
      loseState: () => Promise.resolve(),
    }),
  { spansInstances: false },
);
