import { Injectable, Module } from '@nestjs/common';
import { DiscoveryModule, NestFactory } from '@nestjs/core';
import type { HubbubEventMap } from './event-map';
import { EventBus } from './event-bus';
import { EventListeners } from './event-listeners';
import { EventPriority, OnEvent } from './on-event';

const seen: string[] = [];

@Injectable()
class Late {
  @OnEvent({ name: 'presence.left', priority: EventPriority.Reaction })
  left({ userId }: HubbubEventMap['presence.left']): void {
    seen.push(`late:${userId}`);
  }
}

@Injectable()
class Early {
  @OnEvent({ name: 'presence.left', priority: EventPriority.Local })
  async left({ room }: HubbubEventMap['presence.left']): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    seen.push(`early:${room}`);
  }

  @OnEvent({ name: 'presence.joined' })
  @OnEvent({ name: 'cluster.node-gone' })
  either(payload: HubbubEventMap['presence.joined'] | HubbubEventMap['cluster.node-gone']): void {
    seen.push('node' in payload ? `gone:${payload.node}` : `joined:${payload.userId}`);
  }
}

// Late is declared (and so found) first: only the priorities put Early before it.
@Module({
  imports: [DiscoveryModule],
  providers: [EventBus, EventListeners, Late, Early, { provide: 'alias', useExisting: Early }],
})
class TestModule {}

describe('EventListeners', () => {
  it('registers every @OnEvent method of the providers once, in the order of their priorities', async () => {
    const app = await NestFactory.createApplicationContext(TestModule, { logger: false });
    const bus = app.get(EventBus);
    seen.length = 0;
    await bus.emit('presence.left', { room: 'r', userId: 'u' });
    await bus.emit('presence.joined', { room: 'r', userId: 'v' });
    await bus.emit('cluster.node-gone', { node: 'n' });
    expect(seen).toEqual(['early:r', 'late:u', 'joined:v', 'gone:n']);
    await app.close();
  });
});
