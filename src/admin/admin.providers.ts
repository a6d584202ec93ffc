import type { Provider } from '@nestjs/common';
import { ActivitySampler } from './activity-sampler';
import { LocalNode } from './node-directory';

/**
 * What the dashboard's API routes read: this instance's record and activity. The NodeDirectory (this instance, or
 * every instance of the cluster in cluster mode) is a backend: see backends/backend.providers.ts.
 */
export const adminProviders: Provider[] = [ActivitySampler, LocalNode];
