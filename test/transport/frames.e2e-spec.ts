import { startServer, type TestServer } from '../support/server';
import { TestClient } from '../support/ws-client';

describe('frames', () => {
  let server: TestServer;
  let client: TestClient;

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    client = await TestClient.connect(server.wsUrl, await server.token('alice'));
  });
  afterEach(async () => {
    await client.close();
  });

  it('answers ping with pong carrying the same id', async () => {
    const reply = await client.request('ping');
    expect(reply).toEqual({ event: 'pong', id: 1, data: { ts: expect.any(Number) } });
  });

  it('answers a DTO violation with validation_failed and field details', async () => {
    const reply = await client.request('auth.refresh', { token: 5 });
    expect(reply.event).toBe('error');
    expect(reply.data.code).toBe('validation_failed');
    expect(reply.data.details).toEqual([
      { field: 'token', errors: expect.arrayContaining([expect.any(String)]) },
    ]);
  });

  it('says a missing room is required, and a bad one what is allowed, never showing the raw pattern', async () => {
    const missing = await client.request('chat.join', {});
    expect(missing.data.code).toBe('validation_failed');
    expect(missing.data.details).toEqual([{ field: 'room', errors: ['room is required'] }]);
    const bad = await client.request('chat.join', { room: 'no spaces' });
    expect(JSON.stringify(bad.data.details)).not.toContain('^[');
    expect(JSON.stringify(bad.data.details)).toContain('letter, digit');
  });
});

describe('closing the application', () => {
  it('cuts connections that are still open instead of waiting for them', async () => {
    const server = await startServer();
    const client = await TestClient.connect(server.wsUrl, await server.token('lingering'));
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await client.waitClose()).toBe(1006);
  });
});
