import { Module } from '@nestjs/common';
import { LifecycleModule } from '../lifecycle/lifecycle.module';
import { TransportModule } from '../ws/transport.module';
import { adminProviders } from './admin.providers';

/** This instance as the dashboard shows it; the NodeDirectory over every instance is a backend (backends/). */
@Module({
  imports: [TransportModule, LifecycleModule],
  providers: adminProviders,
  exports: adminProviders,
})
export class AdminModule {}
