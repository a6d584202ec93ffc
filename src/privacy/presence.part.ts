import { Inject, Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { DisconnectService } from '../lifecycle/disconnect.service';
import { PresenceStore } from '../presence/store/presence-store';
import { UserData, type UserDataPart } from './user-data';

/** Rooms asked about at once while exporting a person's presence. */
const ROOM_BATCH = 100;
/** How often the erasure looks whether the person's connections are all gone. */
const POLL_MS = 50;

/**
 * Where a person is present now (every room, on every instance: the presence store is the cluster's). Erasure
 * closes every connection of the person with 4403 on every instance (the `command.disconnect` cluster command)
 * and waits until the presence store holds none of them: each instance removes what it held as its sockets
 * close, and the connections of an instance that died meanwhile go when it is found dead (2 heartbeats).
 */
@UserData()
@Injectable()
export class PresencePart implements UserDataPart {
  readonly name = 'presence';
  private readonly logger = new Logger(PresencePart.name);

  constructor(
    private readonly presence: PresenceStore,
    private readonly disconnects: DisconnectService,
    @Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig,
  ) {}

  async *export(userId: string): AsyncIterable<object> {
    const rooms = (await this.presence.roomNames()).sort();
    for (let i = 0; i < rooms.length; i += ROOM_BATCH) {
      const batch = rooms.slice(i, i + ROOM_BATCH);
      const members = await Promise.all(batch.map((room) => this.presence.member(room, userId)));
      for (const [j, m] of members.entries()) {
        if (m)
          yield { room: batch[j], status: m.status, connections: m.connections, since: m.since };
      }
    }
  }

  async erase(userId: string): Promise<void> {
    await this.disconnects.disconnectUser(userId);
    const deadline = Date.now() + 2 * this.config.heartbeatIntervalMs + 5_000;
    while ((await this.presence.isOnline([userId]))[userId]) {
      if (Date.now() > deadline) {
        this.logger.warn(`presence of an erased user is still held; it goes with its instance`);
        return;
      }
      await sleep(POLL_MS);
    }
  }
}
