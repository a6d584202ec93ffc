import { Module, type DynamicModule } from '@nestjs/common';
import type { HubbubConfig } from './config/config';
import { HubbubModule, type HubbubExtensions } from './hubbub.module';

/**
 * The standalone server (`npm start`, `node dist/main.js`): one user of HubbubModule, with the configuration
 * main.ts read from the environment.
 */
@Module({})
export class AppModule {
  static forRoot(config: HubbubConfig, extensions: HubbubExtensions = {}): DynamicModule {
    return { module: AppModule, imports: [HubbubModule.withConfig(config, extensions)] };
  }
}
