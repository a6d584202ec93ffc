import { startServer, type TestServer } from '../support/server';
import { TestClient } from '../support/ws-client';

describe('chat smoke', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('joins, sends and pushes to the other member', async () => {
    const a = await TestClient.connect(
      server.wsUrl,
      await server.token('alice', { name: 'Alice' }),
    );
    const b = await TestClient.connect(server.wsUrl, await server.token('bob'));
    const joinA = await a.call('chat.join', { room: 'lobby' });
    expect(joinA).toMatchObject({ room: 'lobby', seq: 0, messages: [] });
    const joinB = await b.call('chat.join', { room: 'lobby' });
    expect(joinB.members.map((m: { userId: string }) => m.userId).sort()).toEqual(['alice', 'bob']);
    const pj = await a.next('presence.join');
    expect(pj.data.member.userId).toBe('bob');
    const sent = await a.call('chat.send', { room: 'lobby', text: 'hi' });
    expect(sent.message).toMatchObject({
      room: 'lobby',
      seq: 1,
      userId: 'alice',
      name: 'Alice',
      text: 'hi',
    });
    const pushed = await b.next('chat.message');
    expect(pushed.data).toEqual(sent.message);
    const sub = await b.call('channel.subscribe', { channel: 'news' });
    expect(sub).toEqual({
      channel: 'news',
      offset: 0,
      epoch: expect.any(String),
      recovered: true,
      publications: [],
    });
    const denied = await a.request('channel.publish', { channel: 'news', data: 1 });
    expect(denied.data.code).toBe('forbidden');
    await b.close();
    const left = await a.next('presence.leave');
    expect(left.data).toEqual({ room: 'lobby', userId: 'bob', v: expect.any(Number) });
    await a.close();
  });
});
