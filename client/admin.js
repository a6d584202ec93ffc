// Hubbub admin dashboard: reads the server API with the API key kept in this tab's sessionStorage.
import { createRoomTools } from './admin-room.js';

const $ = (id) => document.getElementById(id);
const KEY = 'hubbub.apiKey';
const PAGE = 10;
let timers = [];
let charts;

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(method, path, body) {
  const headers = { authorization: `Bearer ${sessionStorage.getItem(KEY) ?? ''}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const data = text ? JSON.parse(text) : undefined;
  if (res.status === 401) signOut('The API key was refused.');
  if (!res.ok) {
    const msg = Array.isArray(data?.message) ? data.message.join('; ') : data?.message ?? res.statusText;
    throw new ApiError(res.status, msg);
  }
  return data;
}

/** A DOM element with text (never parsed as HTML). */
function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function setStatus(text, kind = '') {
  $('status').textContent = text;
  $('status').className = `pill ${kind}`;
}

function uptime(sec) {
  const d = Math.floor(sec / 86400), h = Math.floor((sec % 86400) / 3600), m = Math.floor((sec % 3600) / 60);
  return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${sec % 60}s` : `${sec}s`;
}

/** JSON when it parses, else the text itself. */
function parseData(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function fillTable(table, rows, emptyText) {
  const body = $(table).tBodies[0];
  body.replaceChildren();
  if (rows.length === 0) {
    const tr = el('tr');
    const td = el('td', emptyText, 'empty');
    td.colSpan = $(table).tHead.rows[0].cells.length;
    tr.append(td);
    body.append(tr);
  }
  for (const row of rows) body.append(row);
}

// ---- instances --------------------------------------------------------------------------------------------
async function refreshNodes() {
  const { nodes } = await api('GET', '/api/nodes');
  const total = nodes.reduce((sum, n) => sum + n.connections, 0);
  $('totals').textContent = `${nodes.length} instance${nodes.length === 1 ? '' : 's'}, ${total} connection${total === 1 ? '' : 's'}`;
  fillTable('nodes', nodes.map((n) => {
    const tr = el('tr');
    tr.dataset.node = n.node;
    const ready = el('td');
    ready.append(el('span', n.ready ? 'ready' : 'not ready', `badge ${n.ready ? 'ok' : 'bad'}`));
    tr.append(el('td', n.node), el('td', n.connections, 'connections'), el('td', uptime(n.uptimeSec)), el('td', n.version), ready);
    return tr;
  }), 'no instance');
  setStatus(`live · ${new Date().toLocaleTimeString()}`, 'ok');
}

// ---- charts -----------------------------------------------------------------------------------------------
function makeCharts() {
  if (typeof globalThis.uPlot !== 'function') return undefined;
  const width = (id) => Math.max(300, $(id).clientWidth);
  const opts = (id, series) => ({
    width: width(id), height: 200, series: [{}, ...series],
    axes: [{}, { size: 50 }], legend: { live: false },
    // Always the whole window: the last 15 minutes up to now; counts start at 0.
    scales: {
      x: { time: true, range: () => { const now = Date.now() / 1000; return [now - 900, now]; } },
      y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] },
    },
  });
  const conn = new uPlot(opts('connChart', [{ label: 'connections', stroke: '#5b5bd6', fill: 'rgba(91,91,214,.12)', width: 2 }]), [[], []], $('connChart'));
  const msg = new uPlot(opts('msgChart', [
    { label: 'in /s', stroke: '#2da44e', width: 2 },
    { label: 'out /s', stroke: '#d4a72c', width: 2 },
  ]), [[], [], []], $('msgChart'));
  addEventListener('resize', () => {
    conn.setSize({ width: width('connChart'), height: 200 });
    msg.setSize({ width: width('msgChart'), height: 200 });
  });
  return { conn, msg };
}

async function refreshCharts() {
  charts ??= makeCharts();
  if (!charts) return;
  const { samples } = await api('GET', '/api/stats/history');
  const xs = samples.map((s) => s.ts / 1000);
  charts.conn.setData([xs, samples.map((s) => s.connections)]);
  charts.msg.setData([xs, samples.map((s) => s.inPerSec), samples.map((s) => s.outPerSec)]);
}

// ---- rooms and channels: searchable, paged ----------------------------------------------------------------
function pagedList({ kind, path, item, count, onPick }) {
  const state = { cursors: [undefined], page: 0, prefix: '' };
  const render = async () => {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (state.prefix) q.set('prefix', state.prefix);
    const cursor = state.cursors[state.page];
    if (cursor) q.set('cursor', cursor);
    let data;
    try {
      data = await api('GET', `${path}?${q}`);
    } catch (err) {
      if (err.status === 404 || err.status === 400) {
        fillTable(kind, [], err.status === 404 ? 'not available on this server' : err.message);
        $(`${kind}Next`).disabled = $(`${kind}Prev`).disabled = true;
        return;
      }
      throw err;
    }
    const rows = data[kind].map((entry) => {
      const tr = el('tr', undefined, onPick ? 'link' : '');
      tr.dataset.name = entry[item];
      tr.append(el('td', entry[item]), el('td', entry[count]));
      if (onPick) tr.addEventListener('click', () => onPick(entry[item]));
      return tr;
    });
    fillTable(kind, rows, state.prefix ? `no ${kind} starting with “${state.prefix}”` : `no ${kind}`);
    state.cursors[state.page + 1] = data.next;
    $(`${kind}Next`).disabled = !data.next;
    $(`${kind}Prev`).disabled = state.page === 0;
    $(`${kind}Page`).textContent = `page ${state.page + 1}`;
  };
  let debounce;
  $(`${kind === 'rooms' ? 'room' : 'channel'}Search`).addEventListener('input', (ev) => {
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      state.prefix = ev.target.value.trim();
      state.cursors = [undefined];
      state.page = 0;
      void render().catch(showError);
    }, 200);
  });
  $(`${kind}Next`).addEventListener('click', () => { state.page++; void render().catch(showError); });
  $(`${kind}Prev`).addEventListener('click', () => { state.page = Math.max(0, state.page - 1); void render().catch(showError); });
  return render;
}

let openRoom;
let roomTools;
async function showRoom(room) {
  openRoom = room;
  roomTools ??= createRoomTools({ api, el, $ });
  roomTools.open(room);
  $('roomDetail').hidden = false;
  $('roomName').textContent = room;
  const enc = encodeURIComponent(room);
  const [{ members }, { messages }] = await Promise.all([
    api('GET', `/api/rooms/${enc}/presence`),
    api('GET', `/api/rooms/${enc}/messages?limit=20`),
  ]);
  if (openRoom !== room) return;
  roomTools.renderMembers(members);
  roomTools.renderMessages(messages);
  await roomTools.refresh();
}

// ---- user lookup and actions ------------------------------------------------------------------------------
let lookedUp;
async function lookUp(userId) {
  const user = await api('GET', `/api/users/${encodeURIComponent(userId)}`);
  lookedUp = user.userId;
  $('userResult').replaceChildren(
    el('strong', user.userId), el('span', ' '),
    el('span', user.online ? 'online' : 'offline', `badge ${user.online ? 'ok' : 'bad'}`),
    el('span', ` ${user.connections} connection${user.connections === 1 ? '' : 's'}`, 'user-connections'),
  );
  $('disconnectUser').hidden = !user.online;
}

function note(text, isError = false) {
  $('actionNote').textContent = text;
  $('actionNote').className = `note${isError ? ' error' : ''}`;
}

function showError(err) {
  if (err instanceof ApiError && err.status === 401) return;
  setStatus(`error: ${err.message}`, 'bad');
}

// ---- sign in / out ------------------------------------------------------------------------------------------
let refreshRooms, refreshChannels;

function every(ms, fn) {
  const run = () => void fn().catch(showError);
  run();
  timers.push(setInterval(run, ms));
}

function start() {
  $('signIn').hidden = true;
  $('dashboard').hidden = false;
  $('signOut').hidden = false;
  refreshRooms ??= pagedList({ kind: 'rooms', path: '/api/rooms', item: 'room', count: 'members', onPick: (r) => void showRoom(r).catch(showError) });
  refreshChannels ??= pagedList({ kind: 'channels', path: '/api/channels', item: 'channel', count: 'subscribers' });
  every(2000, refreshNodes);
  every(5000, refreshCharts);
  every(5000, () => refreshRooms());
  every(5000, () => refreshChannels());
  every(5000, async () => { if (openRoom && !$('roomDetail').hidden) await showRoom(openRoom); });
  every(2000, async () => { if (lookedUp) await lookUp(lookedUp); });
}

function signOut(reason) {
  sessionStorage.removeItem(KEY);
  for (const t of timers) clearInterval(t);
  timers = [];
  $('dashboard').hidden = true;
  $('signOut').hidden = true;
  $('signIn').hidden = false;
  $('signInNote').textContent = reason ?? 'Signed out.';
  $('signInNote').className = `note${reason ? ' error' : ''}`;
  setStatus('signed out');
}

$('signIn').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  sessionStorage.setItem(KEY, $('apiKey').value.trim());
  $('apiKey').value = '';
  try {
    await api('GET', '/api/nodes');
    start();
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) signOut(`Could not reach the API: ${err.message}`);
  }
});
$('signOut').addEventListener('click', () => signOut());
$('roomClose').addEventListener('click', () => { $('roomDetail').hidden = true; openRoom = undefined; roomTools?.close(); });
$('userForm').addEventListener('submit', (ev) => {
  ev.preventDefault();
  void lookUp($('userId').value.trim()).catch((err) => $('userResult').replaceChildren(el('span', err.message, 'note error')));
});
$('disconnectUser').addEventListener('click', async () => {
  if (!lookedUp) return;
  try {
    await api('POST', `/api/users/${encodeURIComponent(lookedUp)}/disconnect`);
    note(`Disconnecting ${lookedUp} on every instance.`);
  } catch (err) { note(err.message, true); }
});
$('publishForm').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const channel = $('pubChannel').value.trim();
  try {
    const { offset } = await api('POST', `/api/channels/${encodeURIComponent(channel)}/publish`, { data: parseData($('pubData').value) });
    note(`Published to ${channel} at offset ${offset}.`);
  } catch (err) { note(err.message, true); }
});
$('broadcastForm').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  try {
    await api('POST', '/api/broadcast', { data: parseData($('broadcastData').value) });
    note('Broadcast sent to every connection.');
  } catch (err) { note(err.message, true); }
});

if (sessionStorage.getItem(KEY)) start();
