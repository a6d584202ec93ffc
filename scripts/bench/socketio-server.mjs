#!/usr/bin/env node
/**
 * The Socket.IO 4 comparison server of `npm run bench`: what many users would pick. WebSocket transport only (the
 * load client does not long-poll), the JWT checked in an `io.use` middleware from `auth.token`, channels as
 * Socket.IO rooms, requests as events with acknowledgements:
 *   `channel.subscribe {channel}` → socket.join, ack; `channel.publish {channel, data}` → `socket.to(channel).emit(
 *   'channel.message', publication)`, ack `{offset}`; `ping` → ack `{serverTime}`.
 * Environment: PORT, HOST, JWT_SECRET.
 */
import { Server } from 'socket.io';
import { HOST, PORT, httpServer, onSignals, verifyToken } from './common.mjs';

const offsets = new Map();
const http = httpServer();
const io = new Server(http, {
  transports: ['websocket'],
  serveClient: false,
  perMessageDeflate: false,
});
io.use((socket, next) => {
  const userId = verifyToken(socket.handshake.auth?.token);
  if (!userId) return next(new Error('unauthorized'));
  socket.data.userId = userId;
  next();
});
io.on('connection', (socket) => {
  socket.on('channel.subscribe', (data, ack) => {
    void socket.join(data.channel);
    ack?.({
      channel: data.channel,
      offset: offsets.get(data.channel) ?? 0,
      recovered: true,
      publications: [],
    });
  });
  socket.on('channel.publish', (data, ack) => {
    const offset = (offsets.get(data.channel) ?? 0) + 1;
    offsets.set(data.channel, offset);
    const publication = {
      channel: data.channel,
      offset,
      data: data.data,
      userId: socket.data.userId,
      ts: Date.now(),
    };
    socket.to(data.channel).emit('channel.message', publication);
    ack?.({ offset });
  });
  socket.on('ping', (_data, ack) => ack?.({ serverTime: Date.now() }));
});
http.listen(PORT, HOST);
onSignals();
