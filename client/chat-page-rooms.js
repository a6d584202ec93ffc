// The chat page's room list: the user's rooms (`chat.unread`: those with a read marker, and DMs), each with an unread
// badge and a mention mark; the room shown is marked read as its messages are seen. Counts come from the server, so
// they agree across the user's devices (a read on one lowers the badge on the others through `chat.read`).
import { $, el } from './chat-page-dom.js';

/** @param {{client: any, me: string | null, room: string | null, pick: (room: string) => void}} ctx */
export function createRoomList(ctx) {
  /** @type {Map<string, {room: string, seq: number, lastRead: number, unread: number, mentions: number}>} */
  let rooms = new Map();
  let readTimer;
  let pendingRead = null; // {room, seq} waiting to be sent with chat.read
  let refreshTimer;
  let readSent = new Map(); // room -> the last seq sent with chat.read

  function label(r) {
    const parts = [r.room];
    if (r.unread) parts.push(`${r.unread}${r.unread >= 1000 ? '+' : ''} unread`);
    if (r.mentions) parts.push(`${r.mentions} mention${r.mentions === 1 ? '' : 's'}`);
    return parts.join(', ');
  }

  function render() {
    const ul = $('roomList');
    ul.replaceChildren();
    const shown = [...rooms.values()];
    if (ctx.room && !rooms.has(ctx.room)) shown.unshift({ room: ctx.room, seq: 0, lastRead: 0, unread: 0, mentions: 0 });
    if (!shown.length) ul.append(el('li', 'empty', 'Rooms you read appear here.'));
    for (const r of shown) {
      const li = el('li', r.room === ctx.room ? 'current' : '');
      li.dataset.room = r.room;
      const pick = el('button', 'room-link');
      pick.type = 'button';
      pick.setAttribute('aria-label', label(r));
      if (r.room === ctx.room) pick.setAttribute('aria-current', 'true');
      pick.append(el('span', 'room-name', r.room.startsWith('dm:') ? dmName(r.room) : `# ${r.room}`));
      if (r.mentions) pick.append(el('span', 'badge mention', '@'));
      if (r.unread && r.room !== ctx.room) pick.append(el('span', 'badge unread', r.unread >= 1000 ? '999+' : String(r.unread)));
      pick.addEventListener('click', () => ctx.pick(r.room));
      li.append(pick);
      ul.append(li);
    }
  }

  /** `dm:a:b` shown as the other user's id. */
  function dmName(room) {
    const [, a, b] = room.split(':');
    return `@ ${a === ctx.me ? b : a}`;
  }

  async function refresh() {
    clearTimeout(refreshTimer);
    if (!ctx.client) return;
    try {
      const list = await ctx.client.unread();
      rooms = new Map(list.map((r) => [r.room, r]));
    } catch {
      // A server without read markers: the list shows the current room only.
    }
    render();
  }

  /** Coalesces the refreshes several pushes in a row ask for. */
  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => void refresh(), 250);
  }

  /** The shown room's messages up to `seq` were seen: its badge clears, and the read marker follows (coalesced). */
  function seen(room, seq) {
    const r = rooms.get(room);
    if (r) { rooms.set(room, { ...r, seq: Math.max(r.seq, seq), lastRead: Math.max(r.lastRead, seq), unread: 0, mentions: 0 }); render(); }
    if (!seq || (readSent.get(room) ?? 0) >= seq || (pendingRead?.room === room && pendingRead.seq >= seq)) return;
    if (pendingRead && pendingRead.room !== room) flushRead();
    pendingRead = { room, seq };
    clearTimeout(readTimer);
    readTimer = setTimeout(flushRead, 300);
  }

  /** Sends the pending read marker now (also when the user moves to another room). */
  function flushRead() {
    clearTimeout(readTimer);
    const read = pendingRead;
    pendingRead = null;
    if (!read || !ctx.client) return;
    readSent.set(read.room, read.seq);
    ctx.client.markRead(read.room, read.seq).then(() => { if (!rooms.has(read.room)) refreshSoon(); }, () => {});
  }

  /** A message for a room not shown (a DM, a mention): its badge grows until the next refresh says exactly. */
  function arrived(room, { mention = false } = {}) {
    if (room === ctx.room) return;
    const r = rooms.get(room) ?? { room, seq: 0, lastRead: 0, unread: 0, mentions: 0 };
    rooms.set(room, { ...r, unread: r.unread + 1, mentions: r.mentions + (mention ? 1 : 0) });
    render();
    refreshSoon();
  }

  return {
    refresh,
    refreshSoon,
    render,
    seen,
    flushRead,
    arrived,
    reset() { rooms = new Map(); readSent = new Map(); pendingRead = null; clearTimeout(readTimer); clearTimeout(refreshTimer); render(); },
  };
}
