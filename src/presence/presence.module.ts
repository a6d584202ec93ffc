import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { FanoutModule } from '../fanout/fanout.module';
import { TransportModule } from '../ws/transport.module';
import { PresenceGateway } from './presence.gateway';
import { PresenceService } from './presence.service';

/** Who is in each room, and user status. */
@Module({
  imports: [TransportModule, FanoutModule, AccessModule],
  providers: [PresenceService, PresenceGateway],
  exports: [PresenceService],
})
export class PresenceModule {}
