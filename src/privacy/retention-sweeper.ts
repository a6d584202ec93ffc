import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { loggableError } from '../common/log-error';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { RetentionStore } from '../store/retention-store';
import { BatchPacer } from './batch-pacer';
import { RoomRetention } from './room-retention';
import { UserErasureService } from './user-erasure.service';

/** Rooms read per page while walking them. */
const ROOM_PAGE = 200;
/** Messages deleted per transaction at most (fewer when a batch takes long: BatchPacer). */
export const PURGE_BATCH = 500;
const DAY_MS = 86_400_000;

/**
 * The background retention sweep: every RETENTION_SWEEP_MS, under the store's sweep lock (one instance of a
 * cluster at a time), it walks every room and deletes for good the messages older than the room's retention
 * (RoomRetention), oldest first, at most PURGE_BATCH per transaction, sized and paced by a BatchPacer (each batch
 * on a turn of the event loop of its own, and a pause after it).
 * A sweep never overlaps the previous one; a shutdown stops it between two batches. The same tick resumes
 * erasures a failure left pending.
 */
@Injectable()
export class RetentionSweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RetentionSweeper.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopping = false;
  private readonly pacer = new BatchPacer(PURGE_BATCH);

  constructor(
    private readonly store: RetentionStore,
    private readonly retention: RoomRetention,
    private readonly erasures: UserErasureService,
    @Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.config.retentionSweepMs);
    this.timer.unref();
    void this.tick();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** One sweep, unless one is under way. Resolves when it is over (for tests and the first tick). */
  tick(): Promise<void> {
    this.running ??= this.sweepAll()
      .catch((err: unknown) => this.logger.error(`retention sweep failed: ${loggableError(err)}`))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async sweepAll(): Promise<void> {
    if (this.stopping) return;
    await this.store.exclusively(async () => {
      if (await this.retention.active()) await this.sweepRooms();
      await this.erasures.resumePending();
    });
  }

  private async sweepRooms(): Promise<void> {
    let after: string | undefined;
    for (;;) {
      // Only the rooms with a retention of their own when there is no global one; else every room of the store.
      const own = await this.retention.roomsWithRetention(after, ROOM_PAGE);
      const rooms = own?.map((r) => r.room) ?? (await this.store.roomsAfter(after, ROOM_PAGE));
      for (const [i, room] of rooms.entries()) {
        if (this.stopping) return;
        const days = own ? own[i].days : await this.retention.daysFor(room);
        if (days !== undefined) await this.purgeRoom(room, Date.now() - days * DAY_MS);
      }
      if (rooms.length < ROOM_PAGE) return;
      after = rooms[rooms.length - 1];
    }
  }

  private async purgeRoom(room: string, before: number): Promise<void> {
    for (;;) {
      if (this.stopping) return;
      const limit = this.pacer.size;
      const deleted = await this.pacer.run((size) => this.store.purge(room, before, size));
      if (deleted < limit) return;
    }
  }
}
