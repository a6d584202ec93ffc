import {
  Inject,
  Injectable,
  NotFoundException,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { Request } from 'express';
import { BearerKey } from '../common/bearer-key';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';

/** The server API exists only when API_KEY is set (404 otherwise) and needs `Authorization: Bearer <API_KEY>`. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly key?: BearerKey;

  constructor(@Inject(HUBBUB_CONFIG) config: HubbubConfig) {
    this.key = config.apiKey ? new BearerKey(config.apiKey) : undefined;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.key) throw new NotFoundException();
    // Compared as digests: the time taken does not depend on the key's length or the guess's.
    if (!this.key.matches(context.switchToHttp().getRequest<Request>().headers.authorization)) {
      throw new UnauthorizedException('Invalid API key');
    }
    return true;
  }
}
