import type { INestApplicationContext } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import type { WebSocket, WebSocketServer } from 'ws';
import { attachConnection, type Connection } from './connection';
import { HubbubWsAdapter } from './hubbub-ws.adapter';

/**
 * What Nest's per-gateway connection handler does for each new client (WebSocketsController.getConnectionHandler):
 * hands the gateway's handlers to the adapter, then its disconnect hook. Counts its calls.
 */
function nestHandler(adapter: HubbubWsAdapter, gateway: object) {
  const handler = (client: unknown): void => {
    handler.calls++;
    if (!adapter.bindSharedMessageHandlers(client, [], gateway)) return;
    adapter.bindClientDisconnect(client as WebSocket, () => undefined);
  };
  handler.calls = 0;
  return handler;
}

function setup() {
  const shared: object[] = [];
  const app = {
    get: () => ({
      router: { share: (_handlers: unknown, gateway: object) => shared.push(gateway) },
    }),
  } as unknown as INestApplicationContext;
  const adapter = new HubbubWsAdapter(app);
  const server = new EventEmitter();
  const bind = (gateway: object) => {
    const handler = nestHandler(adapter, gateway);
    adapter.bindClientConnect(server as unknown as WebSocketServer, handler);
    return handler;
  };
  const connect = (ours = true) => {
    const client = new EventEmitter();
    if (ours) attachConnection(client as unknown as WebSocket, {} as Connection);
    server.emit('connection', client);
    return client;
  };
  return { bind, connect, shared };
}

describe('HubbubWsAdapter connection handlers', () => {
  it("stops calling a hookless gateway's handler once its handlers are registered", () => {
    const { bind, connect, shared } = setup();
    const plain = bind({});
    for (let i = 0; i < 5; i++) connect();
    expect(plain.calls).toBe(1);
    expect(shared).toHaveLength(1);
  });

  it('calls the handler of a gateway with handleConnection or handleDisconnect for every client', () => {
    const { bind, connect } = setup();
    const opens = bind({ handleConnection: () => undefined });
    const closes = bind({ handleDisconnect: () => undefined });
    const plain = bind({});
    const clients = Array.from({ length: 4 }, () => connect());
    expect([opens.calls, closes.calls, plain.calls]).toEqual([4, 4, 1]);
    // Only the gateway with handleDisconnect listens for each client's close.
    expect(clients.map((c) => c.listenerCount('close'))).toEqual([1, 1, 1, 1]);
  });

  it('keeps calling the handler while it has only seen clients that are not Hubbub connections', () => {
    const { bind, connect } = setup();
    const plain = bind({});
    connect(false);
    connect(false);
    expect(plain.calls).toBe(2);
    connect();
    connect();
    expect(plain.calls).toBe(3);
  });
});
