import { Inject, Injectable } from '@nestjs/common';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { RoomRetention } from '../privacy/room-retention';
import { RoomRetentionSettings } from './room-retention-settings';

/**
 * How long a room keeps its messages: its own `retentionDays` (`room.settings`, `PUT /api/rooms/:room/settings`),
 * else `RETENTION_DAYS`, else forever. The sweep has work while either is set.
 */
@Injectable()
export class SettingsRoomRetention extends RoomRetention {
  constructor(
    private readonly settings: RoomRetentionSettings,
    @Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig,
  ) {
    super();
  }

  override daysFor(room: string): Promise<number | undefined> {
    return this.settings.daysFor(room, this.config.retentionDays);
  }

  override async roomsWithRetention(
    after: string | undefined,
    limit: number,
  ): Promise<{ room: string; days: number }[] | undefined> {
    if (this.config.retentionDays !== undefined) return undefined;
    const rooms = await this.settings.roomsAfter(after, limit);
    return rooms.map((r) => ({ room: r.room, days: r.retentionDays }));
  }

  override async active(): Promise<boolean> {
    return this.config.retentionDays !== undefined || (await this.settings.anyRoomHasRetention());
  }
}
