import { describeBroker } from './broker.contract';
import { MemoryBroker } from './memory-broker';

describeBroker(
  'memory',
  () => ({
    open: () => new MemoryBroker(),
    settle: () => Promise.resolve(),
    loseState: () => Promise.resolve(),
  }),
  { spansInstances: false },
);
