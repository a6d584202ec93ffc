import { Inject, Injectable } from '@nestjs/common';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { ConnectionQuota } from '../quota/connection-quota';

export interface ServerStats {
  /** Cluster-wide in cluster mode. */
  connections: number;
  uptimeSec: number;
  node: string;
}

/** What `server.stats` and `GET /api/stats` have in common. */
@Injectable()
export class StatsService {
  private readonly startedAt = Date.now();

  constructor(
    @Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig,
    private readonly quota: ConnectionQuota,
  ) {}

  async snapshot(): Promise<ServerStats> {
    return {
      connections: await this.quota.totalConnections(),
      uptimeSec: Math.floor((Date.now() - this.startedAt) / 1000),
      node: this.config.nodeId,
    };
  }
}
