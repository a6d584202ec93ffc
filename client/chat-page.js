// The chat page's script (served as a file: the page's CSP allows no inline script).
import { HubbubClient } from './hubbub-client.js';

const $ = (id) => document.getElementById(id);
const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text; // user data only ever goes through textContent
  return node;
};

let client = null;
let current = null; // the client whose events the page shows
let me = null;
let room = null;
const members = new Map(); // userId -> Member
const typers = new Map(); // userId -> expiry timer

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

function time(ts) {
  return new Date(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function addMessage(m) {
  const list = $('messages');
  const li = el('li', m.userId === me ? 'msg mine' : 'msg');
  li.dataset.seq = String(m.seq);
  const meta = el('div', 'meta');
  meta.append(el('span', 'who', m.name ?? nameOf(m.userId)), el('span', 'time', time(m.ts)));
  li.append(meta, el('div', 'text', m.text));
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.querySelector('.placeholder')?.remove();
  list.append(li);
  if (atBottom || m.userId === me) list.scrollTop = list.scrollHeight;
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
    li.append(el('span', 'status', m.status));
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
    if (!reconnected || !room) return;
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
  c.on('chat.message', (m) => { if (m.room === room) { setTyping(m.userId, false); addMessage(m); } });
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
  c.on('user.message', showServerNotice);
  c.on('chat.left', ({ room: r, reason }) => { if (r === room) addSystem(`you left ${r} (${reason})`); });
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
  $('messages').replaceChildren();
  $('chatHead').textContent = 'Not in a room';
  $('connect').disabled = true;
  setConn('connecting…', 'warn');
  try {
    let first = await getToken(); // asked here first, so a 404 or 400 is explained before connecting
    client = current = new HubbubClient('/ws', {
      getToken: async () => { // the one above first, then a fresh one after each expiry (4401)
        const token = first ?? (await getToken());
        first = null;
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
    if (room) await client.leave(room);
    room = null;
    const reply = await client.join(next);
    room = next;
    localStorage.setItem('hubbub.room', next);
    members.clear();
    for (const m of reply.members) members.set(m.userId, m);
    for (const t of typers.values()) clearTimeout(t);
    typers.clear();
    $('chatHead').textContent = `# ${next}`;
    $('messages').replaceChildren();
    if (!reply.messages.length) addSystem('No messages yet. Say hello!', 'placeholder');
    reply.messages.forEach(addMessage);
    renderMembers();
    renderTyping();
    $('text').disabled = $('send').disabled = false;
    $('text').focus();
  } catch (err) {
    addSystem(`Could not join ${next}: ${err.message}`);
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
  try {
    addMessage(await client.send(room, text));
  } catch (err) {
    $('text').value = text;
    addSystem(`Not sent: ${err.message}`);
  }
});

$('status').addEventListener('change', () => {
  client?.setStatus($('status').value).catch((err) => addSystem(`Status not changed: ${err.message}`));
});

// After a reload: connect again by itself with the saved user id and name (and rejoin the saved room).
if (localStorage.getItem('hubbub.userId')) $('login').requestSubmit();
