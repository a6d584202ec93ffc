import { Injectable, UseFilters, UseGuards, UseInterceptors, UsePipes } from '@nestjs/common';
import type { ApplicationConfig, NestContainer } from '@nestjs/core';
import { ConnectedSocket, SubscribeMessage } from '@nestjs/websockets';
import { directHandler } from './direct-handlers';
import { HubbubGateway } from './decorators';

@Injectable()
class AllowAll {
  canActivate(): boolean {
    return true;
  }
}

@Injectable()
class PassThrough {
  intercept(_context: unknown, next: { handle(): unknown }): unknown {
    return next.handle();
  }
}

class OtherFilter {
  catch(): void {}
}

@HubbubGateway()
class Sample {
  @SubscribeMessage('plain')
  plain(): { ok: true } {
    return { ok: true };
  }

  @SubscribeMessage('guarded')
  @UseGuards(AllowAll)
  guarded(): void {}

  @SubscribeMessage('intercepted')
  @UseInterceptors(PassThrough)
  intercepted(): void {}

  @SubscribeMessage('piped')
  @UsePipes(
    new (class {
      transform(v: unknown) {
        return v;
      }
    })(),
  )
  piped(): void {}

  @SubscribeMessage('filtered')
  @UseFilters(OtherFilter)
  filtered(): void {}

  @SubscribeMessage('socket')
  socket(@ConnectedSocket() client: unknown): unknown {
    return client;
  }

  @SubscribeMessage('untyped')
  untyped(data: unknown): unknown {
    return data;
  }
}

@HubbubGateway()
@UseGuards(AllowAll)
class GuardedClass {
  @SubscribeMessage('plain')
  plain(): void {}
}

const globals = (extra: Partial<Record<string, unknown[]>> = {}): ApplicationConfig => {
  const list = (name: string) => () => extra[name] ?? [];
  return {
    getGlobalGuards: list('guards'),
    getGlobalRequestGuards: list('requestGuards'),
    getGlobalInterceptors: list('interceptors'),
    getGlobalRequestInterceptors: list('requestInterceptors'),
    getGlobalPipes: list('pipes'),
    getGlobalRequestPipes: list('requestPipes'),
    getGlobalFilters: list('filters'),
    getGlobalRequestFilters: list('requestFilters'),
  } as unknown as ApplicationConfig;
};

const containerOf = (gateway: object, isStatic = true): NestContainer =>
  ({
    getModules: () =>
      new Map([
        [
          'm',
          {
            providers: new Map([
              ['g', { instance: gateway, isDependencyTreeStatic: () => isStatic }],
            ]),
          },
        ],
      ]),
  }) as unknown as NestContainer;

describe('directHandler: which gateway handlers skip Nest’s pipeline', () => {
  const sample = new Sample();
  const direct = (method: string, config = globals(), container = containerOf(sample)) =>
    directHandler(sample, method, config, container);

  it('calls a handler with no argument, guard, interceptor, pipe or foreign filter directly', () => {
    const handler = direct('plain');
    expect(handler).toBe(Sample.prototype.plain);
    expect(handler!.call(sample)).toEqual({ ok: true });
  });

  it.each(['guarded', 'intercepted', 'piped', 'filtered', 'socket', 'untyped'])(
    'leaves "%s" to Nest (something of its own would run, or it takes arguments)',
    (method) => expect(direct(method)).toBeUndefined(),
  );

  it.each([
    'guards',
    'requestGuards',
    'interceptors',
    'requestInterceptors',
    'pipes',
    'requestPipes',
    'filters',
    'requestFilters',
  ])('leaves every handler to Nest while there are global %s', (kind) => {
    expect(direct('plain', globals({ [kind]: [{}] }))).toBeUndefined();
  });

  it('leaves handlers of a request-scoped or unknown gateway, or of a guarded class, to Nest', () => {
    expect(direct('plain', globals(), containerOf(sample, false))).toBeUndefined();
    expect(direct('plain', globals(), containerOf(new Sample()))).toBeUndefined();
    const guarded = new GuardedClass();
    expect(directHandler(guarded, 'plain', globals(), containerOf(guarded))).toBeUndefined();
  });
});
