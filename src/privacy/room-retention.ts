/**
 * How long a room's messages are kept: the retention sweep asks it for every room. HubbubModule provides
 * SettingsRoomRetention (moderation/): a room's own `retentionDays`, else `RETENTION_DAYS`; a team may provide its own.
 */
export abstract class RoomRetention {
  /** Days the room's messages are kept (by `ts`); `undefined`: forever. */
  abstract daysFor(room: string): Promise<number | undefined>;
  /** `false` when no room can have a retention (nothing to sweep): the sweep then skips its walk over the rooms. */
  abstract active(): Promise<boolean>;
  /**
   * When only some rooms can have a retention (no global default), those rooms by name after `after`, at most
   * `limit`, with their days: the sweep then walks them alone. `undefined`: any room may (the sweep walks every room
   * of the store and asks `daysFor`).
   */
  abstract roomsWithRetention(
    after: string | undefined,
    limit: number,
  ): Promise<{ room: string; days: number }[] | undefined>;
}
