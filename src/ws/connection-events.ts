import type { Connection } from './connection';

/** The payload of the connection events: the connection, on this instance. */
export interface ConnectionEvent {
  conn: Connection;
}

// The transport's events, merged into the one event map (events/ lies below ws/, so it cannot name Connection).
declare module '../events/event-map' {
  interface HubbubEventMap {
    /** A connection passed the handshake and got its welcome. Listeners keep per-connection state. */
    'connection.opened': ConnectionEvent;
    /** A connection closed (its handshake slot is released); listeners drop its state. */
    'connection.closed': ConnectionEvent;
  }
}
