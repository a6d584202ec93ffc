/**
 * How long a room's messages are kept: the retention sweep asks it for every room. HubbubModule provides
 * SettingsRoomRetention (moderation/): a room's own `retentionDays`, else `RETENTION_DAYS`; a team may provide its own.
 */
export abstract class RoomRetention {
  /** Days the room's messages are kept (by `ts`); `undefined`: forever. */
  abstract daysFor(room: string): Promise<number | undefined>;
  /** `false` when no room can have a retention (nothing to sweep): the sweep then skips its walk over the rooms. */
  abstract active(): Promise<boolean>;
}
