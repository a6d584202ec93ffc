/**
 * Issue 19, point 6 (key guessing): every `/api` route that needs the key, and `/metrics`, is throttled per address
 * for requests without the right key. Before, only ApiController was: the channel and dashboard routes and
 * `/metrics` took any number of wrong keys.
 */
import { requestJson } from '../support/http';
import { startServer, type TestServer } from '../support/server';
import { API_ANONYMOUS_LIMIT_PER_MIN } from '../../src/http/throttle.module';

const API_KEY = 'key-guessing-api-key-0123456789abcdef';
const METRICS_TOKEN = 'key-guessing-metrics-token-0123456789';

/** Every route of the OpenAPI document, as `METHOD /path` with its parameters filled in. */
async function documentedRoutes(server: TestServer): Promise<{ method: string; path: string }[]> {
  const doc = (await requestJson(`${server.url}/api/openapi.json`, 'GET')).body as {
    paths: Record<string, Record<string, unknown>>;
  };
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.keys(methods).map((method) => ({
      method: method.toUpperCase(),
      path: path.replace(/\{[^}]+\}/g, 'x1'),
    })),
  );
}

const call = (server: TestServer, method: string, path: string, key?: string) =>
  fetch(`${server.url}${path}`, {
    method,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(method === 'GET' ? {} : { 'content-type': 'application/json' }),
    },
    body: method === 'GET' ? undefined : '{}',
  }).then(async (res) => {
    await res.arrayBuffer();
    return res.status;
  });

describe('key guessing', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startServer({ API_KEY, METRICS_TOKEN });
  });
  afterEach(() => server.close());

  it('throttles every /api route that needs the key once an address used up its wrong-key budget', async () => {
    const routes = (await documentedRoutes(server)).filter((r) => r.path.startsWith('/api/'));
    // The channel and dashboard routes are there too, not only ApiController's.
    expect(routes.map((r) => r.path)).toEqual(
      expect.arrayContaining(['/api/channels/x1', '/api/nodes', '/api/stats']),
    );
    for (let i = 0; i < API_ANONYMOUS_LIMIT_PER_MIN; i++) {
      expect(await call(server, 'GET', '/api/stats', i % 2 ? 'wrong' : undefined)).toBe(401);
    }
    const after: string[] = [];
    for (const { method, path } of routes) {
      after.push(`${method} ${path} ${await call(server, method, path, 'wrong')}`);
    }
    expect(after).toEqual(routes.map(({ method, path }) => `${method} ${path} 429`));
    // The right key is never throttled, on any route.
    for (const { method, path } of routes) {
      expect(await call(server, method, path, API_KEY)).not.toBe(429);
    }
  });

  it('throttles /metrics for requests without the right token, never with it', async () => {
    for (let i = 0; i < API_ANONYMOUS_LIMIT_PER_MIN; i++) {
      expect(await call(server, 'GET', '/metrics', i % 2 ? 'wrong' : undefined)).toBe(401);
    }
    expect(await call(server, 'GET', '/metrics', 'wrong')).toBe(429);
    expect(await call(server, 'GET', '/metrics')).toBe(429);
    for (let i = 0; i < 5; i++)
      expect(await call(server, 'GET', '/metrics', METRICS_TOKEN)).toBe(200);
  });
});
