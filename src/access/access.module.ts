import { Module } from '@nestjs/common';
import { accessProviders } from './access.providers';

/**
 * AccessCheck, the one authorization path (the `dm:` and user-limit rules, then the policy), and subscription
 * tokens. The AccessPolicy is a seam a team replaces: HubbubModule provides it (accessPolicyProvider)
 * beside the team's providers, so that theirs wins.
 */
@Module({
  providers: accessProviders,
  exports: accessProviders,
})
export class AccessModule {}
