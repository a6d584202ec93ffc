import { Module } from '@nestjs/common';
import { FanoutModule } from '../fanout/fanout.module';
import { TransportModule } from '../ws/transport.module';
import { StreamSessions } from './stream-sessions.service';

/**
 * The HTTP transports for networks that block WebSocket (`GET /sse`, `POST /stream`, `POST /stream/send`, whose
 * controllers are in src/http): stream sessions that are Connections like sockets. The StreamSessionDirectory
 * comes from the backends (memory on one instance, Redis in a cluster).
 */
@Module({
  imports: [TransportModule, FanoutModule],
  providers: [StreamSessions],
  exports: [StreamSessions],
})
export class StreamModule {}
