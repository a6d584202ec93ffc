import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { loggableError } from '../common/log-error';
import { EventBus } from '../events/event-bus';
import { type PendingErasure, UserMessageStore } from '../store/user-message-store';
import { USER_DATA_PARTS, type UserDataPart } from './user-data';

/** DELETE /api/users/:userId answers once the erasure is done, or after this long (it then goes on). */
const ANSWER_WITHIN_MS = 10_000;

/**
 * The erasure of a person: durable, idempotent, resumable. It is journaled first (UserMessageStore's pending
 * erasures), then the parts run in order (presence first: every connection of the person closes with 4403 before
 * anything is erased, so nothing new is written meanwhile), then the store is scrubbed (undelivered webhook events of their messages carry
 * tombstones; SQLite: the WAL), then
 * `user.erased` is emitted (the webhook goes into the durable outbox under the erasure's id), and only then the
 * journal entry is removed. A crash anywhere leaves the entry, and the erasure runs again from the start at the
 * next start of any instance (or the next sweep): every part's erasure is idempotent, and the webhook's id is the
 * same, so a repeat is dropped by the outbox (or by the receiver, by id).
 */
@Injectable()
export class UserErasureService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(UserErasureService.name);
  /** Erasures running on this instance, by user: a second request joins the first. */
  private readonly running = new Map<string, Promise<void>>();
  private stopping = false;

  constructor(
    private readonly store: UserMessageStore,
    private readonly bus: EventBus,
    @Inject(USER_DATA_PARTS) private readonly parts: UserDataPart[],
  ) {}

  /** Starts (or joins) the erasure of the user; resolves when it is done, or after ANSWER_WITHIN_MS while it goes on. */
  async erase(userId: string): Promise<void> {
    const pending = await this.store.beginErasure(userId);
    const done = this.run(pending);
    await Promise.race([done, sleep(ANSWER_WITHIN_MS, undefined, { ref: false })]);
  }

  /** Runs every erasure left pending (by a crash, or a failure), except those this instance is running. */
  async resumePending(): Promise<void> {
    for (const pending of await this.store.pendingErasures()) {
      if (this.stopping) return;
      await this.run(pending).catch(() => {}); // logged in run
    }
  }

  onApplicationBootstrap(): void {
    void this.resumePending().catch((err: unknown) =>
      this.logger.error(`resuming erasures failed: ${loggableError(err)}`),
    );
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled([...this.running.values()]);
  }

  private run(pending: PendingErasure): Promise<void> {
    const running = this.running.get(pending.userId);
    if (running) return running;
    const work = this.steps(pending).finally(() => this.running.delete(pending.userId));
    this.running.set(pending.userId, work);
    work.catch((err: unknown) =>
      this.logger.error(`erasure of a user failed (resumed later): ${loggableError(err)}`),
    );
    return work;
  }

  private async steps({ userId, id }: PendingErasure): Promise<void> {
    const [presence, others] = [
      this.parts.filter((p) => p.name === 'presence'),
      this.parts.filter((p) => p.name !== 'presence'),
    ];
    for (const part of [...presence, ...others]) {
      if (this.stopping) throw new Error('shutting down');
      await part.erase(userId);
    }
    await this.store.scrub(userId);
    await this.bus.emitOrThrow('user.erased', { userId, id, at: Date.now() });
    await this.store.finishErasure(userId, id);
  }
}
