import type { Provider } from '@nestjs/common';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { AccessCheck } from './access-check';
import { AccessPolicy } from './access-policy';
import { ClaimAccessPolicy } from './claim-access-policy';
import { ProxyAccessPolicy } from './proxy-access-policy';
import { RoomRules } from './room-rules';
import { SubscriptionTokens } from './subscription-tokens';

/**
 * The access policy: the claims alone, or the claims then the backend when ACCESS_PROXY_URL is set. Chosen when
 * the app starts (the configuration may come from an async factory); a team's own provider replaces it (so
 * HubbubModule provides it, beside the team's providers).
 */
export const accessPolicyProvider: Provider = {
  provide: AccessPolicy,
  inject: [HUBBUB_CONFIG],
  useFactory: (config: HubbubConfig) =>
    config.accessProxyUrl ? new ProxyAccessPolicy(config) : new ClaimAccessPolicy(),
};

/** What AccessModule provides to the features. */
export const accessProviders: Provider[] = [AccessCheck, SubscriptionTokens, RoomRules];
