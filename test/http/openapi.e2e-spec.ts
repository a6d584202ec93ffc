import { startServer, type TestServer } from '../support/server';

/** The OpenAPI document of the server API and its Swagger UI, served only while the API is on. */
type Json = Record<string, any>;

const API_KEY = 'openapi-test-key';
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/** `METHOD /path/{param}` of every /api route the Express app under Nest answers (the docs' own excepted). */
function registeredApiRoutes(server: TestServer): string[] {
  const express = server.app.getHttpAdapter().getInstance() as {
    router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] };
  };
  const routes: string[] = [];
  for (const layer of express.router.stack) {
    const route = layer.route;
    if (!route || !route.path.startsWith('/api/')) continue;
    if (route.path.startsWith('/api/docs') || route.path === '/api/openapi.json') continue;
    const path = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    for (const method of Object.keys(route.methods)) routes.push(`${method.toUpperCase()} ${path}`);
  }
  return routes.sort();
}

function documentedRoutes(doc: Json): string[] {
  return Object.entries(doc.paths as Json)
    .flatMap(([path, item]) =>
      Object.keys(item as Json)
        .filter((m) => METHODS.includes(m))
        .map((m) => `${m.toUpperCase()} ${path}`),
    )
    .sort();
}

/** Every `$ref` in the document, with the JSON pointer it names. */
function refs(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => refs(n, found));
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') found.push(value);
      else refs(value, found);
    }
  }
  return found;
}

function resolvePointer(doc: Json, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<any>((node, key) => (node === undefined ? undefined : node[key]), doc);
}

describe('OpenAPI document of the server API (API_KEY set)', () => {
  let server: TestServer;
  let doc: Json;

  beforeAll(async () => {
    server = await startServer({ API_KEY });
    const res = await fetch(`${server.url}/api/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    doc = (await res.json()) as Json;
  });
  afterAll(() => server.close());

  it('lists exactly the /api routes the server serves', () => {
    const served = registeredApiRoutes(server);
    expect(served.length).toBeGreaterThanOrEqual(7);
    expect(documentedRoutes(doc)).toEqual(served);
  });

  it('is a well-formed OpenAPI 3 document', () => {
    expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
    expect(typeof doc.info.title).toBe('string');
    expect(typeof doc.info.version).toBe('string');
    for (const [path, item] of Object.entries(doc.paths as Json)) {
      expect(path).toMatch(/^\/api\//);
      const pathParams = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      for (const method of Object.keys(item as Json).filter((m) => METHODS.includes(m))) {
        const op = (item as Json)[method] as Json;
        const where = `${method.toUpperCase()} ${path}`;
        expect([where, typeof op.operationId]).toEqual([where, 'string']);
        expect([where, Object.keys(op.responses ?? {}).length > 0]).toEqual([where, true]);
        for (const code of Object.keys(op.responses as Json)) expect(code).toMatch(/^[1-5]\d\d$/);
        // Every {param} of the path is declared as a required path parameter, and nothing more.
        const declared = ((op.parameters ?? []) as Json[])
          .filter((p) => p.in === 'path')
          .map((p) => {
            expect(p.required).toBe(true);
            return p.name as string;
          })
          .sort();
        expect([where, declared]).toEqual([where, pathParams]);
        const ok = Object.keys(op.responses as Json).find((c) => /^2/.test(c));
        expect([where, ok !== undefined]).toEqual([where, true]);
      }
    }
    const operationIds = documentedRoutes(doc).map((r) => {
      const [method, path] = r.split(' ');
      return doc.paths[path][method.toLowerCase()].operationId as string;
    });
    expect(new Set(operationIds).size).toBe(operationIds.length);
    for (const ref of refs(doc))
      expect([ref, resolvePointer(doc, ref) !== undefined]).toEqual([ref, true]);
  });

  it('documents bearer authentication with the API key on every route', () => {
    const schemes = doc.components.securitySchemes as Json;
    const [name, scheme] = Object.entries(schemes)[0] as [string, Json];
    expect(scheme).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.security).toEqual([{ [name]: [] }]);
    for (const item of Object.values(doc.paths as Json)) {
      for (const op of Object.values(item as Json) as Json[]) {
        expect(op.responses['401']).toBeDefined();
        if (op.security !== undefined) expect(op.security).toEqual([{ [name]: [] }]);
      }
    }
  });

  it('describes bodies and responses from the DTOs', () => {
    const post = doc.paths['/api/rooms/{room}/messages'].post as Json;
    const body = resolvePointer(
      doc,
      post.requestBody.content['application/json'].schema.$ref,
    ) as Json;
    expect(body.required).toEqual(expect.arrayContaining(['userId', 'text']));
    expect(body.properties.text).toMatchObject({ type: 'string', minLength: 1, maxLength: 4000 });
    const created = resolvePointer(
      doc,
      post.responses['201'].content['application/json'].schema.$ref,
    ) as Json;
    const message = resolvePointer(doc, created.properties.message.$ref ?? '') as Json | undefined;
    expect(message?.required).toEqual(
      expect.arrayContaining(['id', 'room', 'seq', 'userId', 'text', 'ts']),
    );
    const publish = doc.paths['/api/channels/{channel}/publish'].post as Json;
    const publishBody = resolvePointer(
      doc,
      publish.requestBody.content['application/json'].schema.$ref,
    ) as Json;
    // `data` is any JSON value: not restricted to objects.
    expect(publishBody.properties.data.type).toBeUndefined();
    expect(publishBody.properties.data.nullable).toBe(true);
    const history = doc.paths['/api/rooms/{room}/messages'].get as Json;
    const limit = (history.parameters as Json[]).find((p) => p.name === 'limit')!;
    expect(limit).toMatchObject({ in: 'query', required: false });
    expect(limit.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 100 });
  });

  it('serves Swagger UI at /api/docs', async () => {
    const res = await fetch(`${server.url}/api/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(await res.text()).toContain('swagger-ui');
  });
});

describe('OpenAPI document while the API is off (no API_KEY)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  it.each(['/api/openapi.json', '/api/docs'])('answers 404 at %s', async (path) => {
    const res = await fetch(`${server.url}${path}`);
    await res.body?.cancel();
    expect(res.status).toBe(404);
  });
});
