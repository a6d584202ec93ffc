import {
  Inject,
  Injectable,
  NotFoundException,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { Request } from 'express';
import { timingSafeEqual } from 'node:crypto';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';

/** The server API exists only when API_KEY is set (404 otherwise) and needs `Authorization: Bearer <API_KEY>`. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly key?: Buffer;

  constructor(@Inject(HUBBUB_CONFIG) config: HubbubConfig) {
    this.key = config.apiKey ? Buffer.from(config.apiKey) : undefined;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.key) throw new NotFoundException();
    const header = context.switchToHttp().getRequest<Request>().headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    const given = Buffer.from(match?.[1]?.trim() ?? '');
    if (given.length !== this.key.length || !timingSafeEqual(given, this.key)) {
      throw new UnauthorizedException('Invalid API key');
    }
    return true;
  }
}
