import { Injectable } from '@nestjs/common';
import { RoomRules } from '../access/room-rules';
import { PushService } from '../fanout/push.service';
import { UserData, type UserDataPart } from '../privacy/user-data';
import { ModerationStore, type UserRole } from '../store/moderation-store';

/** Roles read per page. */
const PAGE = 500;

/**
 * The `roles` part of a person's data: export yields `{room, role}` for every room where the user is an owner or
 * a moderator; erase removes those rows (idempotent), then every instance forgets the cached roles. Bans, mutes
 * and the audit log are the rooms' records about the user, kept for the rooms' safety.
 */
@UserData()
@Injectable()
export class RoleDataPart implements UserDataPart {
  readonly name = 'roles';

  constructor(
    private readonly store: ModerationStore,
    private readonly rules: RoomRules,
    private readonly push: PushService,
  ) {}

  async *export(userId: string): AsyncIterable<UserRole> {
    let after: string | undefined;
    for (;;) {
      const page = await this.store.rolesOf(userId, after, PAGE);
      yield* page;
      if (page.length < PAGE) return;
      after = page[page.length - 1].room;
    }
  }

  async erase(userId: string): Promise<void> {
    const rooms: string[] = [];
    for await (const { room } of this.export(userId)) rooms.push(room);
    await this.store.eraseRoles(userId);
    for (const room of rooms) {
      this.rules.changed({ room, userId, action: 'role' });
      await this.push.command('command.room.moderated', { room, userId, action: 'role' });
    }
  }
}
