import { Controller, Get, Inject, HttpCode, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { HandshakeRejection } from '../auth/handshake-authenticator';
import { HUBBUB_CONFIG, type HubbubConfig } from '../config/config';
import { HandshakeService } from '../ws/handshake.service';

/**
 * `GET /ws` without an Upgrade header: answers, as a plain HTTP status with a JSON reason, what a WebSocket
 * handshake with the same token (`Authorization` or `access_token`) and origin would get: 200, or the 401, 403,
 * 429 or 503 of a refusal. A browser never shows a refused handshake's status to the page (only "closed, 1006"),
 * so the client SDK asks here after a refusal and tells the app why. Takes no connection slot. Readable from any
 * origin (CORS `*`): it tells only the token's holder what their own handshake would get.
 */
@ApiExcludeController()
@Controller('ws')
export class HandshakeCheckController {
  constructor(
    @Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig,
    private readonly handshake: HandshakeService,
  ) {}

  @Get()
  @HttpCode(200)
  async check(
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @Query('origin') origin?: string,
  ): Promise<{ statusCode: number; message: string }> {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Cache-Control', 'no-store');
    if (!this.config.transports.has('websocket')) {
      res.status(404);
      return { statusCode: 404, message: 'no WebSocket endpoint here' };
    }
    try {
      await this.handshake.check(req, req.headers.origin ?? (origin || undefined));
      return {
        statusCode: 200,
        message: 'a WebSocket handshake with this token would be accepted',
      };
    } catch (err) {
      if (!(err instanceof HandshakeRejection)) throw err;
      res.status(err.status);
      return { statusCode: err.status, message: err.message };
    }
  }
}
