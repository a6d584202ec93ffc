import { Injectable } from '@nestjs/common';
import { ModerationStore } from '../store/moderation-store';

/** Rooms with their own retention looked at to answer `anyRoomHasRetention`: one is enough. */
const ONE = 1;

/**
 * What the retention sweep needs of the room settings: a room's own `retentionDays` (set with `room.settings` or
 * `PUT /api/rooms/:room/settings`), else the server's default. Read from the store, not the rules cache: the sweep
 * walks every room, which would only churn a cache meant for the checks of live requests.
 */
@Injectable()
export class RoomRetentionSettings {
  constructor(private readonly store: ModerationStore) {}

  /** Days the room's messages are kept: its own setting, else `fallback` (RETENTION_DAYS; undefined: forever). */
  async daysFor(room: string, fallback: number | undefined): Promise<number | undefined> {
    return (await this.store.settings(room)).retentionDays ?? fallback;
  }

  /** The rooms with a retention of their own, by name after `after`, at most `limit`. */
  roomsAfter(
    after: string | undefined,
    limit: number,
  ): Promise<{ room: string; retentionDays: number }[]> {
    return this.store.retentionRooms(after, limit);
  }

  /** True when at least one room has a retention of its own (so a sweep has work even without RETENTION_DAYS). */
  async anyRoomHasRetention(): Promise<boolean> {
    return (await this.store.retentionRooms(undefined, ONE)).length > 0;
  }
}
