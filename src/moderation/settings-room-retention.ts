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

  override async active(): Promise<boolean> {
    return this.config.retentionDays !== undefined || (await this.settings.anyRoomHasRetention());
  }
}
