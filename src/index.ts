/**
 * Hubbub as a library: `import { HubbubModule, HubbubGateway, … } from 'hubbub'`. Everything a team's Nest app
 * needs to embed the server and extend it; docs/extending.md shows each extension point.
 */
export { HubbubModule, type HubbubAsyncOptions, type HubbubExtensions } from './hubbub.module';
export type { HubbubOptions } from './config/options';
export { ConfigError, HUBBUB_CONFIG, type HubbubConfig } from './config/config';
export { HubbubWsAdapter } from './ws/hubbub-ws.adapter';
export { Conn, HubbubGateway, WS_PATH } from './ws/decorators';
export { Connection } from './ws/connection';
export { ClientRegistry } from './ws/client-registry.service';
export type { ConnectionEvent } from './ws/connection-events';
export { HubbubError, CloseCode, ERROR_CODES, type ErrorCode } from './protocol/errors';
export { PushService } from './fanout/push.service';
export { ChatService } from './chat/chat.service';
export {
  MessageHooks,
  PassThroughMessageHooks,
  type MessageContext,
  type MessageDraft,
} from './chat/message-hooks';
export { ChannelsService } from './channels/channels.service';
export { AccessPolicy } from './access/access-policy';
export { AccessCheck } from './access/access-check';
export { PresenceService } from './presence/presence.service';
export type { Member, PresenceStatus } from './presence/store/presence-store';
export { RoomService } from './rooms/room.service';
export { DisconnectService } from './lifecycle/disconnect.service';
export {
  HandshakeAuthenticator,
  HandshakeRejection,
  JwtHandshakeAuthenticator,
  extractToken,
} from './auth/handshake-authenticator';
export type { Principal } from './auth/principal';
export { TokenVerifier } from './auth/token-verifier';
export { EventBus } from './events/event-bus';
export { EventPriority, OnEvent, type OnEventOptions } from './events/on-event';
export type { ClusterCommand, HubbubEventMap, HubbubEventName } from './events/event-map';
export { MessageStore, type StoredMessage } from './store/message-store';
export { applyHttpHardening } from './http/http-hardening';
export { applyHandshakeLimits } from './http/handshake-limits';
export { setupApiDocs } from './openapi/openapi';
export type { HubbubHttpOptions } from './config/options';
