// The chat page's script (served as a file: the page's CSP allows no inline script). The message list, the room list
// and moderation are modules of their own (chat-page-*.js).
import { HubbubClient } from './hubbub-client.js';
import { $, el } from './chat-page-dom.js';
import { createMessageList } from './chat-page-messages.js';
import { createModeration, explain } from './chat-page-moderation.js';
import { createRoomList } from './chat-page-rooms.js';

let client = null;
let current = null; // the client whose events the page shows
let me = null;
let admin = false; // the token's roles include admin: owner rights in every room
let room = null;
const members = new Map(); // userId -> Member
const typers = new Map(); // userId -> expiry timer

/** What the page's modules read: always the current values. */
const ctx = {
  get client() { return client; },
  get me() { return me; },
  get room() { return room; },
  get admin() { return admin; },
  nameOf: (userId, fallback) => nameOf(userId, fallback),
  addSystem: (text) => addSystem(text),
  explain: (err) => explain(err, room),
  canDelete: () => moderation.canDelete(),
  changed: () => { renderMembers(); messages.rerender(); },
  pick: (next) => { $('room').value = next; $('roomForm').requestSubmit(); },
};
const messages = createMessageList(ctx);
const roomList = createRoomList(ctx);
const moderation = createModeration(ctx);

for (const key of ['userId', 'name', 'room']) $(key).value = localStorage.getItem(`hubbub.${key}`) ?? $(key).value;

function setConn(text, kind = '') {
  $('conn').textContent = text;
  $('conn').className = kind;
}

function note(text, isError = false) {
  $('loginNote').textContent = text;
  $('loginNote').className = isError ? 'note error' : 'note';
}

async function getToken() {
  const pasted = $('token').value.trim();
  if (pasted) return pasted;
  const res = await fetch('/dev/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId: $('userId').value.trim(), name: $('name').value.trim() || undefined }),
  });
  if (res.status === 404) {
    $('tokenField').hidden = false;
    throw new Error('Dev tokens are off on this server (production mode): paste a token signed for it instead.');
  }
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error([].concat(body.message ?? `token request failed (HTTP ${res.status})`).join('; '));
  return body.token;
}

function nameOf(userId, fallback) {
  return members.get(userId)?.name ?? fallback ?? userId;
}

/** The roles claim of a JWT, read (not verified: the server does that) to know whether the user is admin. */
function rolesOf(token) {
  try {
    const roles = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).roles;
    return Array.isArray(roles) ? roles : [];
  } catch {
    return [];
  }
}

/** A message of the shown room: listed, and read while the page is visible. */
function addMessage(m) {
  messages.add(m);
  if (document.visibilityState === 'visible') roomList.seen(m.room, m.seq);
}

function addSystem(text, className = '') {
  $('messages').append(el('li', `msg system ${className}`, text));
}

function renderMembers() {
  const list = $('members');
  list.replaceChildren();
  if (!members.size) list.append(el('li', 'empty', room ? 'Nobody here.' : 'Join a room to see who is here.'));
  const sorted = [...members.values()].sort((a, b) => nameOf(a.userId).localeCompare(nameOf(b.userId)));
  for (const m of sorted) {
    const li = el('li');
    li.dataset.userId = m.userId;
    li.append(el('span', `dot ${m.status}`), el('span', 'who', nameOf(m.userId) + (m.userId === me ? ' (you)' : '')));
    li.append(...moderation.memberExtras(m.userId), el('span', 'status', m.status));
    list.append(li);
  }
}

function renderTyping() {
  const names = [...typers.keys()].filter((id) => id !== me).map((id) => nameOf(id));
  $('typing').textContent = !names.length ? '' : `${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} typing…`;
}

function setTyping(userId, typing) {
  clearTimeout(typers.get(userId));
  typers.delete(userId);
  if (typing) typers.set(userId, setTimeout(() => setTyping(userId, false), 6000));
  renderTyping();
}

/** A notice from the server API (`user.message`), shown in the message list. */
function showServerNotice({ data, from }) {
  const text = typeof data === 'string' ? data : typeof data?.text === 'string' ? data.text : JSON.stringify(data);
  addSystem(`notice from ${from}: ${text}`, 'notice');
}

function wire(hub) {
  // Events of a client replaced by a new login are ignored.
  const c = { on: (event, handler) => hub.on(event, (data) => { if (current === hub) handler(data); }) };
  c.on('connected', async ({ reconnected }) => {
    setConn(`connected as ${hub.welcome.userId}`, 'ok');
    if (reconnected) void roomList.refresh();
    if (!reconnected || !room) return;
    // Edits, deletions, reactions and roles changed meanwhile are not replayed by the rejoin: read them again.
    const shown = room;
    void moderation.load();
    hub.request('chat.history', { room: shown, limit: 100 }).then(
      ({ messages: recent }) => { if (room === shown) for (const m of recent) messages.update(m); },
      () => {},
    );
    const reply = await hub.request('presence.list', { room }).catch(() => null); // others came and went meanwhile
    if (!reply) return;
    members.clear();
    for (const m of reply.members) members.set(m.userId, m);
    renderMembers();
  });
  c.on('disconnected', ({ code, reconnecting }) => {
    if (reconnecting) return setConn(`reconnecting… (${code})`, 'warn');
    setConn(code === 4403 ? 'disconnected by the server' : `offline (${code})`, 'bad');
    for (const id of ['join', 'send', 'text', 'status']) $(id).disabled = true;
    $('connect').disabled = false;
  });
  c.on('chat.message', (m) => {
    if (m.room !== room) return roomList.arrived(m.room); // a DM while another room is shown
    setTyping(m.userId, false);
    addMessage(m);
  });
  c.on('chat.updated', ({ room: r, message }) => { if (r === room) messages.update(message); });
  c.on('chat.deleted', ({ room: r, seq }) => { if (r === room) messages.deleted(seq); });
  c.on('chat.reacted', (data) => { if (data.room === room) messages.reacted(data); });
  c.on('user.mention', ({ room: r }) => roomList.arrived(r, { mention: true }));
  c.on('chat.read', ({ userId }) => { if (userId === me) roomList.refreshSoon(); }); // read on another device
  c.on('room.role', (data) => moderation.onRole(data));
  c.on('chat.typing', (t) => { if (t.room === room) setTyping(t.userId, t.typing); });
  c.on('presence.join', ({ room: r, member }) => { if (r === room) { members.set(member.userId, member); renderMembers(); } });
  c.on('presence.update', ({ room: r, member }) => { if (r === room) { members.set(member.userId, member); renderMembers(); } });
  c.on('presence.leave', ({ room: r, userId }) => {
    if (r !== room) return;
    members.delete(userId);
    setTyping(userId, false);
    renderMembers();
  });
  c.on('error', (e) => addSystem(`server: ${e.message}`));
  // A rejoin after a reconnect refused (e.g. banned meanwhile): say why; the composer stays until the next try.
  c.on('restore.error', (err) => { if (room) addSystem(`Could not rejoin ${room}: ${explain(err, room)}`); });
  c.on('user.message', showServerNotice);
  c.on('chat.left', ({ room: r, reason }) => {
    if (r !== room) return;
    const why = { kicked: 'a moderator removed you', banned: 'you are banned from it' }[reason] ?? reason;
    addSystem(`You are no longer in ${r}: ${why}.`, 'notice removed');
    room = null;
    members.clear();
    renderMembers();
    moderation.reset();
    $('chatHead').textContent = 'Not in a room';
    $('text').disabled = $('send').disabled = true;
  });
}

$('login').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  if (!$('userId').value.trim() && !$('token').value.trim()) return note('Enter a user id.', true);
  for (const key of ['userId', 'name']) localStorage.setItem(`hubbub.${key}`, $(key).value.trim());
  current = null;
  client?.close();
  room = null;
  members.clear();
  renderMembers();
  messages.reset();
  roomList.reset();
  moderation.reset();
  $('chatHead').textContent = 'Not in a room';
  $('connect').disabled = true;
  setConn('connecting…', 'warn');
  try {
    let first = await getToken(); // asked here first, so a 404 or 400 is explained before connecting
    client = current = new HubbubClient('/ws', {
      getToken: async () => { // the one above first, then a fresh one after each expiry (4401)
        const token = first ?? (await getToken());
        first = null;
        admin = rolesOf(token).includes('admin');
        return token;
      },
    });
    wire(client);
    const welcome = await client.connect();
    me = welcome.userId;
    note(`Signed in as ${me}.`);
    $('connect').textContent = 'Switch user';
    $('connect').disabled = false;
    $('join').disabled = false;
    $('status').disabled = false;
    $('status').value = 'online';
    void roomList.refresh();
    $('roomForm').requestSubmit();
  } catch (err) {
    setConn('offline', 'bad');
    note(err.code === 'closed' ? 'The connection closed before the server answered.' : err.message, true);
    $('connect').disabled = false;
  }
});

$('roomForm').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const next = $('room').value.trim();
  if (!client || !next || next === room) return;
  try {
    roomList.flushRead();
    if (room) await client.leave(room).catch(() => {}); // already out (kicked, banned) is fine
    room = null;
    const reply = await client.join(next);
    room = next;
    localStorage.setItem('hubbub.room', next);
    members.clear();
    for (const m of reply.members) members.set(m.userId, m);
    for (const t of typers.values()) clearTimeout(t);
    typers.clear();
    $('chatHead').textContent = `# ${next}`;
    messages.reset();
    if (!reply.messages.length) addSystem('No messages yet. Say hello!', 'placeholder');
    reply.messages.forEach(addMessage);
    roomList.render();
    void moderation.load();
    renderMembers();
    renderTyping();
    $('text').disabled = $('send').disabled = false;
    $('text').focus();
  } catch (err) {
    addSystem(`Could not join ${next}: ${explain(err, next)}`);
  }
});

let typingSent = 0;
let typingIdle;
$('text').addEventListener('input', () => {
  if (!room) return;
  clearTimeout(typingIdle);
  typingIdle = setTimeout(() => { typingSent = 0; client.typing(room, false).catch(() => {}); }, 2500);
  if (Date.now() - typingSent > 3000) { typingSent = Date.now(); client.typing(room, true).catch(() => {}); }
});

$('composer').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const text = $('text').value;
  if (!text.trim() || !room) return;
  $('text').value = '';
  clearTimeout(typingIdle);
  typingSent = 0;
  const replyTo = messages.replyTo;
  messages.cancelReply();
  try {
    addMessage(await client.send(room, text, replyTo === undefined ? {} : { replyTo }));
  } catch (err) {
    $('text').value = text;
    addSystem(`Not sent: ${explain(err, room)}`);
  }
});

$('status').addEventListener('change', () => {
  client?.setStatus($('status').value).catch((err) => addSystem(`Status not changed: ${err.message}`));
});

// After a reload: connect again by itself with the saved user id and name (and rejoin the saved room).
if (localStorage.getItem('hubbub.userId')) $('login').requestSubmit();

// Back to the tab: what arrived meanwhile is now seen.
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState !== 'visible') return;
  if (room) roomList.seen(room, messages.lastSeq);
  roomList.refreshSoon(); // counts of the other rooms (their messages are not pushed to a page not in them)
});
