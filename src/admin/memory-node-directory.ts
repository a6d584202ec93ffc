import { Injectable } from '@nestjs/common';
import { ActivitySampler, type ActivitySample } from './activity-sampler';
import { LocalNode, NodeDirectory, type NodeInfo } from './node-directory';

@Injectable()
export class MemoryNodeDirectory extends NodeDirectory {
  constructor(
    private readonly local: LocalNode,
    private readonly sampler: ActivitySampler,
  ) {
    super();
  }

  async nodes(): Promise<NodeInfo[]> {
    return [await this.local.info()];
  }

  activity(): Promise<ActivitySample[]> {
    return Promise.resolve(this.sampler.samples());
  }
}
