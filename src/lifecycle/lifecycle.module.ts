import { Module } from '@nestjs/common';
import { FanoutModule } from '../fanout/fanout.module';
import { TransportModule } from '../ws/transport.module';
import { DisconnectService } from './disconnect.service';
import { HeartbeatService } from './heartbeat.service';
import { NodeLiveness } from './node-liveness.service';
import { Readiness } from './readiness.service';
import { SessionExpiryService } from './session-expiry.service';
import { ShutdownService } from './shutdown.service';

/** Connection lifecycle (heartbeat, session expiry, disconnect, shutdown drain), instance liveness and readiness. */
@Module({
  imports: [TransportModule, FanoutModule],
  providers: [
    NodeLiveness,
    HeartbeatService,
    SessionExpiryService,
    ShutdownService,
    Readiness,
    DisconnectService,
  ],
  exports: [Readiness, SessionExpiryService, ShutdownService, DisconnectService],
})
export class LifecycleModule {}
