/**
 * The server API's chat-lifecycle routes (contract section 7): PATCH and DELETE of a message, GET search; on SQLite,
 * PostgreSQL, and two instances with Redis (the socket client watching the pushes is on the other instance).
 */
import { rid } from '../support/fixtures';
import { API_KEY, describeLifecycle } from './lifecycle-modes';

async function http(
  url: string,
  method: 'GET' | 'PATCH' | 'DELETE',
  body?: unknown,
  key: string | null = API_KEY,
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {};
  if (key !== null) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

describeLifecycle('chat lifecycle server API', ({ connect, server, receiver }) => {
  const base = () => `${server().url}/api/rooms`;

  it('PATCH /api/rooms/:room/messages/:seq edits any message: {message}, push chat.updated, webhook', async () => {
    const room = `room-${rid()}`;
    const a = await connect(`alice-${rid()}`);
    const watcher = await connect(`watcher-${rid()}`, {}, true);
    await a.call('chat.join', { room });
    await watcher.call('chat.join', { room });
    const { message: sent } = await a.call('chat.send', { room, text: 'typo' });
    const res = await http(`${base()}/${room}/messages/1`, 'PATCH', { text: 'fixed' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: { ...sent, text: 'fixed', editedAt: expect.any(Number) } });
    expect((await watcher.next('chat.updated')).data).toEqual({ room, message: res.body.message });
    await receiver().next('message.updated', (d) => d.message.room === room);
    expect((await http(`${base()}/${room}/messages/2`, 'PATCH', { text: 'x' })).status).toBe(404);
    expect((await http(`${base()}/${room}/messages/1`, 'PATCH', { text: '' })).status).toBe(400);
    expect((await http(`${base()}/${room}/messages/abc`, 'PATCH', { text: 'x' })).status).toBe(400);
    expect((await http(`${base()}/${room}/messages/1`, 'PATCH', { text: 'x' }, null)).status).toBe(
      401,
    );
  });

  it('DELETE /api/rooms/:room/messages/:seq is 204 (again too), pushes chat.deleted once; unknown is 404', async () => {
    const room = `room-${rid()}`;
    const a = await connect(`alice-${rid()}`);
    const watcher = await connect(`watcher-${rid()}`, {}, true);
    await a.call('chat.join', { room });
    await watcher.call('chat.join', { room });
    await a.call('chat.send', { room, text: 'remove me' });
    const res = await http(`${base()}/${room}/messages/1`, 'DELETE');
    expect(res).toEqual({ status: 204, body: undefined });
    expect((await watcher.next('chat.deleted')).data).toEqual({ room, seq: 1 });
    expect((await http(`${base()}/${room}/messages/1`, 'DELETE')).status).toBe(204);
    expect((await http(`${base()}/${room}/messages/7`, 'DELETE')).status).toBe(404);
    const hook = await receiver().next('message.deleted', (d) => d.room === room);
    expect(hook.body.data).toMatchObject({ room, seq: 1, by: 'server' });
    const { messages } = await a.call('chat.history', { room });
    expect(messages[0]).toMatchObject({ seq: 1, text: '', deleted: true });
    expect((await http(`${base()}/${room}/messages/1`, 'PATCH', { text: 'back' })).status).toBe(
      404,
    );
  });

  it('GET /api/rooms/:room/search?q&before&limit is {messages, more}, newest first; bad parameters are 400', async () => {
    const room = `room-${rid()}`;
    const a = await connect(`alice-${rid()}`);
    await a.call('chat.join', { room });
    for (const text of ['red apple', 'green apple', 'red wine', 'apple red pie']) {
      await a.call('chat.send', { room, text });
    }
    const res = await http(`${base()}/${room}/search?q=${encodeURIComponent('Red apple')}`, 'GET');
    expect(res.status).toBe(200);
    expect(res.body.more).toBe(false);
    expect(res.body.messages.map((m: { seq: number }) => m.seq)).toEqual([4, 1]);
    const page = await http(`${base()}/${room}/search?q=apple&limit=2&before=4`, 'GET');
    expect(page.body.messages.map((m: { seq: number }) => m.seq)).toEqual([2, 1]);
    expect(page.body.more).toBe(false);
    const more = await http(`${base()}/${room}/search?q=apple&limit=1`, 'GET');
    expect(more.body).toMatchObject({ more: true });
    for (const query of ['', 'q=', 'q=x&limit=51', 'q=x&before=-1', 'q=%21%21']) {
      expect([query, (await http(`${base()}/${room}/search?${query}`, 'GET')).status]).toEqual([
        query,
        400,
      ]);
    }
  });
});
