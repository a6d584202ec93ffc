import { Module, type DynamicModule } from '@nestjs/common';
import type { HubbubConfig } from './config/config';
import { ALL_ROUTES } from './http-routes';
import { HubbubModule, type HubbubExtensions } from './hubbub.module';

/**
 * The standalone server (`npm start`, `node dist/main.js`): one user of HubbubModule, with the configuration
 * main.ts read from the environment, and every HTTP route on (a team's app chooses them, each off by default).
 */
@Module({})
export class AppModule {
  static forRoot(config: HubbubConfig, extensions: HubbubExtensions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [HubbubModule.withConfig(config, extensions, ALL_ROUTES)],
    };
  }
}
