import { Global, Module } from '@nestjs/common';
import { AdminModule } from '../admin/admin.module';
import { NodeDirectory } from '../admin/node-directory';
import { ChannelHistory } from '../channels/history/channel-history';
import { ChannelSubscribers } from '../channels/subscribers/channel-subscribers';
import { REDIS, REDIS_KEYS } from '../cluster/redis.provider';
import { Broker } from '../broker/broker';
import { PresenceStore } from '../presence/store/presence-store';
import { ConnectionQuota } from '../quota/connection-quota';
import { MessageEdits } from '../store/message-edits';
import { MessageStore } from '../store/message-store';
import { ModerationStore } from '../store/moderation-store';
import { SlowModeGate } from '../quota/slow-mode-gate';
import { StreamSessionDirectory } from '../stream/stream-session-directory';
import { WebhookOutbox } from '../store/webhook-outbox';
import { ReadMarkers } from '../chat/read-markers';
import { RetentionStore } from '../store/retention-store';
import { UserMessageStore } from '../store/user-message-store';
import { backendProviders } from './backend.providers';

/**
 * Every backend, chosen from the configuration (backend.providers.ts). Global: each feature depends on the abstract
 * classes only and never imports this module. The node directory reads this instance's record (AdminModule).
 */
@Global()
@Module({
  imports: [AdminModule],
  providers: backendProviders,
  exports: [
    REDIS,
    REDIS_KEYS,
    MessageStore,
    MessageEdits,
    WebhookOutbox,
    ReadMarkers,
    RetentionStore,
    UserMessageStore,
    Broker,
    ConnectionQuota,
    PresenceStore,
    ChannelHistory,
    ChannelSubscribers,
    NodeDirectory,
    ModerationStore,
    SlowModeGate,
    StreamSessionDirectory,
  ],
})
export class BackendsModule {}
