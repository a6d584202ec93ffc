import { Controller, Get, Param, Query, UseGuards, UsePipes } from '@nestjs/common';
import type { ActivitySample } from '../admin/activity-sampler';
import { SAMPLE_MS } from '../admin/activity-sampler';
import { NodeDirectory, type NodeInfo } from '../admin/node-directory';
import { pageOfNames } from '../admin/room-page';
import { httpValidationPipe } from '../http/http-validation.pipe';
import { PresenceStore } from '../presence/store/presence-store';
import { ConnectionQuota } from '../quota/connection-quota';
import { ApiKeyGuard } from './api-key.guard';
import { UserParams } from './api.dto';
import { ListQuery } from './dashboard-api.dto';
import { ThrottlerGuard } from '@nestjs/throttler';

export const DEFAULT_PAGE = 100;

/** Server API routes behind the admin dashboard: the instances, the occupied rooms, a user, recent activity. */
@Controller('api')
@UseGuards(ThrottlerGuard, ApiKeyGuard)
@UsePipes(httpValidationPipe)
export class DashboardApiController {
  constructor(
    private readonly directory: NodeDirectory,
    private readonly presence: PresenceStore,
    private readonly quota: ConnectionQuota,
  ) {}

  @Get('nodes')
  async nodes(): Promise<{ nodes: NodeInfo[] }> {
    return { nodes: await this.directory.nodes() };
  }

  /** Rooms with someone in them, cluster-wide, by name; `next` is the cursor of the following page. */
  @Get('rooms')
  async rooms(
    @Query() query: ListQuery,
  ): Promise<{ rooms: { room: string; members: number }[]; next?: string }> {
    const limit = query.limit ?? DEFAULT_PAGE;
    const { page, more } = pageOfNames(await this.presence.roomNames(), { ...query, limit });
    const counts = await this.presence.memberCounts(page);
    // A room emptied since the names were read is left out rather than shown with nobody in it.
    const rooms = page
      .map((room, i) => ({ room, members: counts[i] }))
      .filter((r) => r.members > 0);
    return more ? { rooms, next: page[page.length - 1] } : { rooms };
  }

  @Get('users/:userId')
  async user(
    @Param() { userId }: UserParams,
  ): Promise<{ userId: string; online: boolean; connections: number }> {
    const [online, connections] = await Promise.all([
      this.presence.isOnline([userId]),
      this.quota.userConnections(userId),
    ]);
    return { userId, online: online[userId] ?? false, connections };
  }

  /** Connections and messages per second over the last 15 minutes, in 5 s buckets, cluster-wide. */
  @Get('stats/history')
  async history(): Promise<{ intervalSec: number; samples: ActivitySample[] }> {
    return { intervalSec: SAMPLE_MS / 1000, samples: await this.directory.activity() };
  }
}
