import type { Provider } from '@nestjs/common';
import { ServerSubscriptions } from './server-subscriptions';

/** Server-side subscriptions (the subscriber counts are a backend: see backends/backend.providers.ts). */
export const channelProviders: Provider[] = [ServerSubscriptions];
