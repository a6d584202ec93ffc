import { Controller, Get, Inject, Logger, Options, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { HandshakeRejection } from '../auth/handshake-authenticator';
import type { Principal } from '../auth/principal';
import { loggableError } from '../common/log-error';
import { HUBBUB_CONFIG, type HubbubConfig, type Transport } from '../config/config';
import { StreamSessions } from '../stream/stream-sessions.service';
import type { StreamFormat } from '../stream/stream-socket';
import { HandshakeService } from '../ws/handshake.service';
import { UpgradeGate } from '../ws/upgrade-gate';
import { parseSendBody } from './stream-body';
import { allowOrigin, preflight } from './stream-cors';

/**
 * The HTTP transports (contract section 10), for networks that block WebSocket: `GET /sse` (Server-Sent Events)
 * and `POST /stream` (newline-delimited JSON) open a stream session with the handshake of `/ws` (draining,
 * overload, origin, token, per-user quota: the same statuses); `POST /stream/send {session, frames}` hands the
 * client's frames to its session, on whichever instance holds it. Each route answers 404 while TRANSPORTS leaves
 * its transport out. Part of the socket endpoint, so mounted whatever the `http` options (like `GET /ws`).
 */
@ApiExcludeController()
@Controller()
export class StreamController {
  private readonly log = new Logger('Streams');

  constructor(
    @Inject(HUBBUB_CONFIG) private readonly config: HubbubConfig,
    private readonly handshake: HandshakeService,
    private readonly sessions: StreamSessions,
    private readonly gate: UpgradeGate,
  ) {}

  @Options(['sse', 'stream', 'stream/send'])
  preflight(@Req() req: Request, @Res() res: Response): void {
    if (!this.anyStream()) return void answer(res, 404, 'no stream endpoint here');
    preflight(this.config, req, res);
  }

  @Get('sse')
  async sse(@Req() req: Request, @Res() res: Response): Promise<void> {
    const channels = typeof req.query.channels === 'string' ? req.query.channels : '';
    await this.openStream(req, res, 'sse', channels);
  }

  @Post('stream')
  async stream(@Req() req: Request, @Res() res: Response): Promise<void> {
    await this.openStream(req, res, 'stream', '');
  }

  @Post('stream/send')
  async send(@Req() req: Request, @Res() res: Response): Promise<void> {
    if (!this.anyStream()) return answer(res, 404, 'no stream endpoint here');
    allowOrigin(this.config, req, res);
    const principal = await this.admitted(res, () => this.handshake.identify(req));
    if (!principal) return;
    const body = parseSendBody(req.body, this.config.maxPayloadBytes);
    if (!body.ok) return answer(res, body.status, body.message);
    let delivered: boolean;
    try {
      delivered = await this.sessions.send(principal, body.session, body.frames);
    } catch (err) {
      this.log.warn(`send not handed over: ${loggableError(err)}`);
      return answer(res, 503, 'the session cannot be reached now, try again');
    }
    if (!delivered) return answer(res, 404, 'no such session');
    res.status(202).json({ accepted: body.frames.length });
  }

  private async openStream(
    req: Request,
    res: Response,
    format: StreamFormat,
    channelList: string,
  ): Promise<void> {
    if (!this.config.transports.has(format satisfies Transport)) {
      return answer(res, 404, `no ${format === 'sse' ? 'SSE' : 'stream'} endpoint here`);
    }
    allowOrigin(this.config, req, res);
    const channels = channelList
      .split(',')
      .map((c) => c.trim())
      .filter((c) => c.length > 0);
    // Each is a `channel.subscribe` frame taking a rate-limit token: more than a burst's worth would be refused.
    const most = Math.min(this.config.maxSubscriptions, this.config.rateLimitBurst);
    if (channels.length > most) return answer(res, 400, [`channels: at most ${most}`]);
    const principal = await this.admitted(res, () => this.handshake.admit(req), true);
    if (!principal) return;
    try {
      const clientPings = req.query.clientPings === '1';
      const opened = await this.sessions.open(req, res, principal, format, {
        channels,
        clientPings,
      });
      if (opened) this.gate.count(101); // `hubbub_handshakes_total{result="accepted"}`, as an upgrade
    } catch (err) {
      this.log.warn(`stream session not opened: ${loggableError(err)}`);
      this.gate.count(503);
      answer(res, 503, 'sessions cannot be registered now, try again');
    }
  }

  /** The principal, or undefined once the refusal (401, 403, 429, 503) is answered. */
  private async admitted(
    res: Response,
    check: () => Promise<Principal>,
    handshake = false,
  ): Promise<Principal | undefined> {
    try {
      return await check();
    } catch (err) {
      if (!(err instanceof HandshakeRejection)) throw err;
      if (handshake) this.gate.count(err.status);
      answer(res, err.status, err.message);
      return undefined;
    }
  }

  private anyStream(): boolean {
    return this.config.transports.has('sse') || this.config.transports.has('stream');
  }
}

/** A refusal in Nest's error shape. */
function answer(res: Response, status: number, message: string | string[]): void {
  if (res.headersSent) return;
  res.status(status).json({ statusCode: status, message });
}
