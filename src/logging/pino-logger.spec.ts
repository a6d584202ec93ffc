import { PassThrough } from 'node:stream';
import { PinoLogger } from './pino-logger';

/** A logger writing into memory; `lines()` are what it wrote so far. */
function capture(level: string, pretty: boolean) {
  const out = new PassThrough();
  const chunks: string[] = [];
  out.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
  const logger = new PinoLogger(level, 'node-1', { pretty, destination: out });
  return { logger, lines: () => chunks.join('').split('\n').filter(Boolean) };
}

describe('PinoLogger', () => {
  it('development: one readable line per entry, time of day, level, context and message', () => {
    const { logger, lines } = capture('info', true);
    logger.log('listening on http://127.0.0.1:3000', 'Hubbub');
    logger.warn('JWT_SECRET is not set', 'Hubbub');
    expect(lines()).toEqual([
      expect.stringMatching(
        /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: Hubbub: listening on http:\/\/127\.0\.0\.1:3000$/,
      ),
      expect.stringMatching(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: Hubbub: JWT_SECRET is not set$/),
    ]);
  });

  it('production: one JSON object per line with level, time, node, context and msg', () => {
    const { logger, lines } = capture('info', false);
    logger.log('listening', 'Hubbub');
    expect(lines()).toHaveLength(1);
    expect(JSON.parse(lines()[0])).toEqual({
      level: 30,
      time: expect.any(Number),
      node: 'node-1',
      context: 'Hubbub',
      msg: 'listening',
    });
  });

  it.each([true, false])(
    'Nest route, module and gateway lines only at debug (pretty: %s)',
    (pretty) => {
      const chatty: [string, string][] = [
        ['Mapped {/api/nodes, GET} route', 'RouterExplorer'],
        ['ApiController {/api}:', 'RoutesResolver'],
        ['AppModule dependencies initialized', 'InstanceLoader'],
        ['ChatGateway subscribed to the "chat.join" message', 'WebSocketsController'],
      ];
      const info = capture('info', pretty);
      for (const [msg, ctx] of chatty) info.logger.log(msg, ctx);
      expect(info.lines()).toEqual([]);
      const debug = capture('debug', pretty);
      for (const [msg, ctx] of chatty) debug.logger.log(msg, ctx);
      expect(debug.lines()).toHaveLength(chatty.length);
    },
  );

  it('redacts token fields in both formats', () => {
    for (const pretty of [true, false]) {
      const { logger, lines } = capture('info', pretty);
      logger.log({ msg: 'refresh', token: 'secret-jwt' }, 'Session');
      expect(lines().join('\n')).not.toContain('secret-jwt');
    }
  });
});
