import {
  Catch,
  Inject,
  Injectable,
  Module,
  Scope,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
  type ArgumentMetadata,
  type CallHandler,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
  type INestApplication,
  type NestInterceptor,
  type PipeTransform,
} from '@nestjs/common';
import {
  APP_FILTER,
  APP_GUARD,
  APP_INTERCEPTOR,
  APP_PIPE,
  NestFactory,
  REQUEST,
} from '@nestjs/core';
import { ConnectedSocket, MessageBody, SubscribeMessage, WsException } from '@nestjs/websockets';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMPTY, map, of, type Observable } from 'rxjs';
import type { WebSocket } from 'ws';
import { HubbubGateway, HubbubModule, TokenVerifier } from '../../src/index';
import { TEST_SECRET } from '../support/secret';
import { TestClient } from '../support/ws-client';

/** What each enhancer saw, in order, for the request being answered (requests are sent one at a time). */
let trace: string[] = [];

type Body = { matrix?: boolean; deny?: string; pipes?: string[]; kind?: string };
const isMatrix = (context: ExecutionContext): boolean =>
  String(context.switchToWs().getPattern()).startsWith('matrix.');

function guard(name: string): CanActivate {
  return {
    canActivate(context: ExecutionContext): boolean {
      if (!isMatrix(context)) return true;
      trace.push(`guard:${name}`);
      return (context.switchToWs().getData<Body>()?.deny ?? '') !== name;
    },
  };
}

function pipe(name: string): PipeTransform {
  return {
    transform(value: unknown, metadata: ArgumentMetadata): unknown {
      const body = value as Body | undefined;
      if (metadata.type !== 'body' || !body?.matrix) return value;
      trace.push(`pipe:${name}`);
      return { ...body, pipes: [...(body.pipes ?? []), name] };
    },
  };
}

function interceptor(name: string): NestInterceptor {
  return {
    intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
      if (!isMatrix(context)) return next.handle();
      trace.push(`interceptor:${name}`);
      return next
        .handle()
        .pipe(map((result: unknown) => ({ ...(result as object), [`by_${name}`]: true })));
    },
  };
}

/** Errors, each caught by the filter of one level; the filter's return value is the reply. */
class MethodError extends Error {}
class ClassError extends Error {}
class AppError extends Error {}
class GlobalError extends Error {}

function filterOf(name: string, type: new () => Error): ExceptionFilter {
  @Catch(type)
  class Filter implements ExceptionFilter {
    catch(): unknown {
      trace.push(`filter:${name}`);
      return { handledBy: name };
    }
  }
  return new Filter();
}

@Injectable()
class AppGuard implements CanActivate {
  canActivate = guard('app').canActivate;
}
@Injectable()
class AppPipe implements PipeTransform {
  transform = pipe('app').transform;
}
@Injectable()
class AppInterceptor implements NestInterceptor {
  intercept = interceptor('app').intercept;
}
@Catch(AppError)
class AppFilter implements ExceptionFilter {
  catch(): unknown {
    trace.push('filter:app');
    return { handledBy: 'app' };
  }
}

@HubbubGateway()
@UseGuards(guard('class'))
@UsePipes(pipe('class'))
@UseInterceptors(interceptor('class'))
@UseFilters(filterOf('class', ClassError))
class MatrixGateway {
  @SubscribeMessage('matrix.echo')
  @UseGuards(guard('method'))
  @UsePipes(pipe('method'))
  @UseInterceptors(interceptor('method'))
  echo(@MessageBody(pipe('param')) body: Body): { pipes?: string[] } {
    trace.push('handler');
    return { pipes: body.pipes };
  }

  @SubscribeMessage('matrix.fail')
  @UseFilters(filterOf('method', MethodError))
  fail(@MessageBody() body: Body): never {
    const errors: Record<string, new () => Error> = {
      method: MethodError,
      class: ClassError,
      app: AppError,
      global: GlobalError,
    };
    throw new (errors[body.kind ?? ''] ?? Error)();
  }

  @SubscribeMessage('matrix.refuse')
  refuse(): never {
    throw new WsException('Not today');
  }

  @SubscribeMessage('matrix.stream')
  stream(): Observable<{ n: number }> {
    return of(1, 2, 3).pipe(map((n) => ({ n })));
  }

  @SubscribeMessage('matrix.empty')
  empty(): Observable<never> {
    return EMPTY;
  }
}

/** A request-scoped provider: one per connection, whose REQUEST is the connection's WebSocket. */
@Injectable({ scope: Scope.REQUEST })
class PerConnection {
  count = 0;
  constructor(@Inject(REQUEST) readonly socket: WebSocket) {}
}

@HubbubGateway()
class ScopedGateway {
  constructor(private readonly mine: PerConnection) {}

  @SubscribeMessage('scoped.count')
  count(@ConnectedSocket() socket: WebSocket): { count: number; sameSocket: boolean } {
    return { count: ++this.mine.count, sameSocket: this.mine.socket === socket };
  }
}

@Module({
  providers: [
    MatrixGateway,
    ScopedGateway,
    PerConnection,
    { provide: APP_GUARD, useClass: AppGuard },
    { provide: APP_PIPE, useClass: AppPipe },
    { provide: APP_INTERCEPTOR, useClass: AppInterceptor },
    { provide: APP_FILTER, useClass: AppFilter },
  ],
})
class TeamModule {}

describe('a team gateway gets every Nest enhancer, as a stock Nest gateway would', () => {
  let app: INestApplication;
  let connect: (user: string) => Promise<TestClient>;
  /** What Nest logged as errors. */
  const logged: string[] = [];

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hubbub-enhancers-'));
    @Module({
      imports: [
        HubbubModule.forRoot(
          { jwtSecret: TEST_SECRET, sqlitePath: join(dir, 'hubbub.db'), logLevel: 'error' },
          { imports: [TeamModule] },
        ),
      ],
    })
    class TeamAppModule {}
    app = await NestFactory.create(TeamAppModule, {
      logger: { log() {}, warn() {}, error: (message: unknown) => logged.push(String(message)) },
    });
    // useGlobal* after create, before listen: they apply as well.
    app.useGlobalGuards(guard('global'));
    app.useGlobalPipes(pipe('global'));
    app.useGlobalInterceptors(interceptor('global'));
    app.useGlobalFilters(filterOf('global', GlobalError));
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    const verifier = app.get(TokenVerifier);
    connect = async (user) =>
      TestClient.connect(`ws://127.0.0.1:${port}/ws`, await verifier.sign({ sub: user }, 600));
  });
  afterAll(() => app.close());

  beforeEach(() => {
    trace = [];
  });

  it('runs guards, pipes and interceptors of every level in Nest order; interceptors map the result', async () => {
    const client = await connect('alice');
    const reply = await client.call('matrix.echo', { matrix: true });
    expect(trace).toEqual([
      'guard:app',
      'guard:global',
      'guard:class',
      'guard:method',
      'interceptor:app',
      'interceptor:global',
      'interceptor:class',
      'interceptor:method',
      'pipe:app',
      'pipe:global',
      'pipe:class',
      'pipe:method',
      'pipe:param',
      'handler',
    ]);
    expect(reply).toEqual({
      pipes: ['app', 'global', 'class', 'method', 'param'],
      by_app: true,
      by_global: true,
      by_class: true,
      by_method: true,
    });
    await client.close();
  });

  it.each(['app', 'global', 'class', 'method'])(
    'answers forbidden when the %s guard refuses, before the handler runs',
    async (level) => {
      const client = await connect('bob');
      const refused = await client.request('matrix.echo', { matrix: true, deny: level });
      expect(refused).toMatchObject({
        event: 'error',
        id: refused.id,
        data: { code: 'forbidden' },
      });
      expect(trace).not.toContain('handler');
      await client.close();
    },
  );

  it.each(['method', 'class', 'app', 'global'])(
    'answers the request with what the %s exception filter returns',
    async (level) => {
      const client = await connect('carol');
      const reply = await client.request('matrix.fail', { kind: level });
      expect(reply).toEqual({ event: 'matrix.fail', id: reply.id, data: { handledBy: level } });
      expect(trace.filter((t) => t.startsWith('filter:'))).toEqual([`filter:${level}`]);
      await client.close();
    },
  );

  it('answers internal when no filter catches the error, and the server logs it', async () => {
    const client = await connect('dave');
    const before = logged.length;
    const reply = await client.request('matrix.fail', { kind: 'none' });
    expect(reply).toMatchObject({ event: 'error', data: { code: 'internal' } });
    expect(logged.length).toBeGreaterThan(before);
    await client.close();
  });

  it('answers a WsException as bad_request with its message, without logging it', async () => {
    const client = await connect('dave');
    const before = logged.length;
    const reply = await client.request('matrix.refuse');
    expect(reply).toMatchObject({
      event: 'error',
      id: reply.id,
      data: { code: 'bad_request', message: 'Not today' },
    });
    // A later request that logs proves the WsException had its chance to be logged first.
    await client.request('matrix.fail', { kind: 'none' });
    expect(logged.slice(before)).toHaveLength(1);
    expect(logged.slice(before).join()).not.toContain('Not today');
    await client.close();
  });

  it('answers an Observable with the last value it emits, and an empty one with {}', async () => {
    const client = await connect('erin');
    // The interceptors see the values as they come (each maps them), the client the last one.
    const enhanced = { by_app: true, by_global: true, by_class: true };
    expect(await client.call('matrix.stream')).toEqual({ n: 3, ...enhanced });
    expect(await client.call('matrix.empty')).toEqual({});
    await client.close();
  });

  it('resolves a request-scoped gateway once per connection, with the WebSocket as REQUEST', async () => {
    const one = await connect('frank');
    const two = await connect('frank');
    expect(await one.call('scoped.count')).toEqual({ count: 1, sameSocket: true });
    expect(await one.call('scoped.count')).toEqual({ count: 2, sameSocket: true });
    expect(await two.call('scoped.count')).toEqual({ count: 1, sameSocket: true });
    await one.close();
    await two.close();
  });

  it("keeps Hubbub's own events working under the team's global enhancers", async () => {
    const client = await connect('grace');
    expect((await client.call('chat.join', { room: 'enhanced' })).room).toBe('enhanced');
    expect((await client.call('ping')).ts).toEqual(expect.any(Number));
    await client.close();
  });
});

describe('two gateways declaring one event', () => {
  @HubbubGateway()
  class FirstGateway {
    @SubscribeMessage('team.same')
    one(): object {
      return {};
    }
  }
  @HubbubGateway()
  class SecondGateway {
    @SubscribeMessage('team.same')
    two(): object {
      return {};
    }
  }
  @HubbubGateway()
  class PingGateway {
    @SubscribeMessage('ping')
    ping(): object {
      return {};
    }
  }

  async function refusal(...gateways: (new () => object)[]): Promise<Error> {
    @Module({ providers: gateways })
    class Gateways {}
    @Module({
      imports: [
        HubbubModule.forRoot(
          { jwtSecret: TEST_SECRET, sqlitePath: join(mkdtempSync(join(tmpdir(), 'dup-')), 'h.db') },
          { imports: [Gateways] },
        ),
      ],
    })
    class TeamAppModule {}
    const created = NestFactory.create(TeamAppModule, { logger: false, abortOnError: false });
    await expect(created).rejects.toThrow();
    return created.catch((err: Error) => err) as Promise<Error>;
  }

  it('stops the start with one line naming both', async () => {
    const error = await refusal(FirstGateway, SecondGateway);
    expect(error.message).toBe(
      'Invalid gateways: event "team.same" is declared by both FirstGateway.one and SecondGateway.two',
    );
    expect(error.stack).not.toContain('\n');
  });

  it('refuses a gateway declaring ping, which the router answers itself', async () => {
    expect((await refusal(PingGateway)).message).toMatch(/PingGateway\.ping declares "ping"/);
  });
});
