import { trackedClients } from '../support/clients';
import { startServer, type TestServer } from '../support/server';

/**
 * chat.dm's `to`: the rule is that dm:<a>:<b> fits in 128 characters, so what `to` may hold depends on the
 * sender's id; the validation message says exactly that many.
 */
describe('chat.dm user id limits', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.close();
  });
  const { connect } = trackedClients(() => server);

  it('accepts a `to` that just fits (dm:alice:<119 chars> is 128) and says the limit when one more does not', async () => {
    const alice = await connect('alice');
    const longest = 'b'.repeat(119);
    const sent = await alice.call('chat.dm', { to: longest, text: 'fits' });
    expect(sent.message.room).toBe(`dm:alice:${longest}`);
    expect(sent.message.room).toHaveLength(128);

    const refused = await alice.request('chat.dm', { to: `${longest}b`, text: 'too long' });
    expect(refused.event).toBe('error');
    expect(refused.data).toEqual({
      code: 'validation_failed',
      message: 'Validation failed',
      details: [
        {
          field: 'to',
          errors: [
            'to must be a user id made of A-Z a-z 0-9 _ . - and at most 119 characters long (the room dm:<a>:<b> must fit in 128)',
          ],
        },
      ],
    });
  });

  it('accepts a 100-character `to` from a short id, as the message promises', async () => {
    const bo = await connect('bo');
    const to = 'x'.repeat(100);
    const sent = await bo.call('chat.dm', { to, text: 'hi' });
    expect(sent.message.room).toBe(`dm:bo:${to}`);
    const refused = await bo.request('chat.dm', { to: 'has:colon', text: 'no' });
    expect(refused.data.details[0].errors[0]).toContain('at most 122 characters');
  });
});
