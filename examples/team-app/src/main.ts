import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { applyHandshakeLimits, applyHttpHardening, HUBBUB_CONFIG } from 'hubbub';
import { TeamAppModule } from './app.module';

export async function createTeamApp(port = 0): Promise<INestApplication> {
  const app = await NestFactory.create(TeamAppModule, { logger: ['error', 'warn'] });
  // No WebSocket adapter to install: Hubbub attaches /ws to this app's HTTP server when the app starts.
  // As Hubbub's own server does, before listen: helmet's headers and 400 for bad JSON bodies, then the handshake
  // limits (HANDSHAKE_TIMEOUT_MS, MAX_PENDING_CONNECTIONS) from the configuration Hubbub validated.
  applyHttpHardening(app);
  applyHandshakeLimits(app, app.get(HUBBUB_CONFIG));
  await app.listen(port, '127.0.0.1');
  return app;
}

if (require.main === module) {
  void createTeamApp(Number(process.env.PORT ?? 3000)).then((app) =>
    console.log(`team app on ${String(app.getHttpServer().address().port)}`),
  );
}
