import { Module } from '@nestjs/common';
import { TransportModule } from '../ws/transport.module';
import { PushService } from './push.service';
import { SubscriptionIndex } from './subscription-index';

/** Fan-out: which local connections want a topic, and pushes to them through the Broker on every instance. */
@Module({
  imports: [TransportModule],
  providers: [PushService, SubscriptionIndex],
  exports: [PushService, SubscriptionIndex],
})
export class FanoutModule {}
