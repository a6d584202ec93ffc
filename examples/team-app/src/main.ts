import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HubbubWsAdapter } from 'hubbub';
import { TeamAppModule } from './app.module';

export async function createTeamApp(port = 0): Promise<INestApplication> {
  const app = await NestFactory.create(TeamAppModule, { logger: ['error', 'warn'] });
  app.useWebSocketAdapter(new HubbubWsAdapter(app));
  await app.listen(port, '127.0.0.1');
  return app;
}

if (require.main === module) {
  void createTeamApp(Number(process.env.PORT ?? 3000)).then((app) =>
    console.log(`team app on ${String(app.getHttpServer().address().port)}`),
  );
}
