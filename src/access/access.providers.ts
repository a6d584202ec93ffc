import type { Provider } from '@nestjs/common';
import type { HubbubConfig } from '../config/config';
import { AccessPolicy } from './access-policy';
import { ClaimAccessPolicy } from './claim-access-policy';
import { ProxyAccessPolicy } from './proxy-access-policy';
import { SubscriptionTokens } from './subscription-tokens';
import { AccessRecheck } from './access-recheck';

/** The access policy: the claims alone, or the claims then the backend when ACCESS_PROXY_URL is set. */
export function accessProviders(config: HubbubConfig): Provider[] {
  return [
    {
      provide: AccessPolicy,
      useClass: config.accessProxyUrl ? ProxyAccessPolicy : ClaimAccessPolicy,
    },
    SubscriptionTokens,
    AccessRecheck,
  ];
}
