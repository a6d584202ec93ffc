import { Injectable } from '@nestjs/common';
import { EventPriority, OnEvent } from '../events/on-event';
import type { HubbubEventMap } from '../events/event-map';
import { ModerationStore, type RoomSettings, type StoredStanding } from '../store/moderation-store';

/** Entries each cache holds; past it the least recently used goes. */
export const RULES_CACHE_SIZE = 10_000;
/** An entry is read again from the store after this long, even without a change heard (a lost command heals). */
export const RULES_CACHE_TTL_MS = 30_000;
/** Reads retried when a change lands while one is in flight; then the newest read is used uncached. */
const READ_TRIES = 3;

/**
 * A bounded LRU map with a time to live (a Map keeps insertion order; a hit moves the key to the end). Written
 * here rather than taken from lru-cache, which is not a dependency of the package: 20 lines.
 */
class BoundedCache<V> {
  private readonly map = new Map<string, { value: V; at: number }>();
  constructor(
    private readonly size: number,
    private readonly ttlMs: number,
  ) {}
  get(key: string, now: number): V | undefined {
    const hit = this.map.get(key);
    if (!hit) return undefined;
    this.map.delete(key);
    if (now - hit.at > this.ttlMs) return undefined;
    this.map.set(key, hit);
    return hit.value;
  }
  set(key: string, value: V, now: number): void {
    this.map.delete(key);
    this.map.set(key, { value, at: now });
    if (this.map.size > this.size) this.map.delete(this.map.keys().next().value!);
  }
  delete(key: string): void {
    this.map.delete(key);
  }
  get length(): number {
    return this.map.size;
  }
}

/**
 * The rooms' moderation rules as every check reads them: the ModerationStore, behind a cache of standings
 * (role, ban, mute of a user in a room) and room settings. Every instance drops an entry when the cluster command
 * `command.room.moderated` says it changed, and drops the whole cache's answers in flight too: a read that
 * started before a change and ends after it is done again (`epoch`), so no check acts on a rule older than the
 * last change this instance heard of.
 */
@Injectable()
export class RoomRules {
  private readonly standings = new BoundedCache<StoredStanding>(
    RULES_CACHE_SIZE,
    RULES_CACHE_TTL_MS,
  );
  private readonly roomSettings = new BoundedCache<RoomSettings>(
    RULES_CACHE_SIZE,
    RULES_CACHE_TTL_MS,
  );
  private epoch = 0;

  constructor(private readonly store: ModerationStore) {}

  standing(room: string, userId: string): Promise<StoredStanding> {
    return this.read(this.standings, `${room}\n${userId}`, () => this.store.standing(room, userId));
  }

  settings(room: string): Promise<RoomSettings> {
    return this.read(this.roomSettings, room, () => this.store.settings(room));
  }

  /** Forgets what changed; run on every instance by the cluster command, and at once where it was recorded. */
  @OnEvent({ name: 'command.room.moderated', priority: EventPriority.Local })
  changed({ room, userId, action }: HubbubEventMap['command.room.moderated']): void {
    this.epoch++;
    if (action === 'settings') this.roomSettings.delete(room);
    else this.standings.delete(`${room}\n${userId}`);
  }

  /** Cached entries (for tests of the bound). */
  get cached(): number {
    return this.standings.length + this.roomSettings.length;
  }

  private async read<V>(cache: BoundedCache<V>, key: string, load: () => Promise<V>): Promise<V> {
    const hit = cache.get(key, Date.now());
    if (hit !== undefined) return hit;
    let value!: V;
    for (let i = 0; i < READ_TRIES; i++) {
      const epoch = this.epoch;
      value = await load();
      if (epoch === this.epoch) {
        cache.set(key, value, Date.now());
        return value;
      }
    }
    return value;
  }
}
