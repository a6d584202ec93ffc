import { Module } from '@nestjs/common';
import { accessProviders } from './access.providers';

/**
 * Subscription tokens. The AccessPolicy is a seam a team replaces: HubbubModule provides it (accessPolicyProvider)
 * beside the team's providers, so that theirs wins.
 */
@Module({
  providers: accessProviders,
  exports: accessProviders,
})
export class AccessModule {}
