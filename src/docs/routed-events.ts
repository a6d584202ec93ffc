import type { INestApplicationContext } from '@nestjs/common';
import { FrameRouter } from '../ws/frame-router';

/** The events the socket answers (the protocol's `ping` and every gateway's `@SubscribeMessage`), sorted. */
export function routedEvents(app: INestApplicationContext): string[] {
  return app.get(FrameRouter, { strict: false }).events().sort();
}
