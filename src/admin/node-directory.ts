import { Inject, Injectable } from '@nestjs/common';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { Readiness } from '../lifecycle/readiness.service';
import { ClientRegistry } from '../ws/client-registry.service';
import type { ActivitySample } from './activity-sampler';
import { packageVersion } from './package-version';

/** One instance as `GET /api/nodes` shows it. */
export interface NodeInfo {
  node: string;
  /** Open connections on that instance. */
  connections: number;
  uptimeSec: number;
  /** Hubbub's version (package.json). */
  version: string;
  /** What `GET /health/ready` on that instance answers (200: true). */
  ready: boolean;
}

/** This instance: its live figures, and its readiness as `GET /health/ready` decides it (Readiness). */
@Injectable()
export class LocalNode {
  readonly startedAt = Date.now();
  readonly version = packageVersion();

  constructor(
    @Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig,
    private readonly registry: ClientRegistry,
    private readonly readiness: Readiness,
  ) {}

  get node(): string {
    return this.config.nodeId;
  }

  async info(): Promise<NodeInfo> {
    return {
      node: this.config.nodeId,
      connections: this.registry.size,
      uptimeSec: Math.floor((Date.now() - this.startedAt) / 1000),
      version: this.version,
      ready: await this.readiness.ready(),
    };
  }
}

/** Every instance of the deployment: this one alone, or the whole cluster through Redis. */
export abstract class NodeDirectory {
  /** Sorted by node name. */
  abstract nodes(): Promise<NodeInfo[]>;
  /** The last 15 minutes of activity, summed over the instances, oldest first. */
  abstract activity(): Promise<ActivitySample[]>;
}
