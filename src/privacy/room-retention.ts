import { Inject, Injectable } from '@nestjs/common';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';

/**
 * How long a room's messages are kept: the retention sweep asks it for every room. The room settings
 * (`room.settings {retentionDays}`) replace this provider with one that answers a room's own setting and falls
 * back to the global `RETENTION_DAYS`.
 */
export abstract class RoomRetention {
  /** Days the room's messages are kept (by `ts`); `undefined`: forever. */
  abstract daysFor(room: string): Promise<number | undefined>;
  /** `false` when no room can have a retention (nothing to sweep): the sweep then skips its walk over the rooms. */
  abstract active(): Promise<boolean>;
}

/** The global default, `RETENTION_DAYS`, for every room. */
@Injectable()
export class GlobalRoomRetention extends RoomRetention {
  constructor(@Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig) {
    super();
  }

  override daysFor(): Promise<number | undefined> {
    return Promise.resolve(this.config.retentionDays);
  }

  override active(): Promise<boolean> {
    return Promise.resolve(this.config.retentionDays !== undefined);
  }
}
