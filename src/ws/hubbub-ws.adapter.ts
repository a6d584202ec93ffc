import { WsAdapter } from '@nestjs/platform-ws';

/**
 * Not needed any more: Hubbub attaches its `/ws` endpoint to the app's HTTP server itself (WsTransport), and its
 * gateways are not Nest WebSocket gateways, so Nest never asks an adapter about them. Kept so that apps wired with
 * `app.useWebSocketAdapter(new HubbubWsAdapter(app))` keep working: it is Nest's own WsAdapter, used only for the
 * app's own stock `@WebSocketGateway()`s, if it has any.
 * @deprecated Remove the `useWebSocketAdapter` call; nothing else changes.
 */
export class HubbubWsAdapter extends WsAdapter {}
