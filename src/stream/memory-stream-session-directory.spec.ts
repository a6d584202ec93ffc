import { MemoryStreamSessionDirectory } from './memory-stream-session-directory';
import { describeStreamSessionDirectory } from './stream-session-directory.contract';

describeStreamSessionDirectory(
  'memory',
  () => Promise.resolve({ open: () => new MemoryStreamSessionDirectory() }),
  { spansInstances: false },
);
