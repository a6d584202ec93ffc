// The chat page's moderation: the room's roles (room.info, kept current by room.role pushes) shown in the member
// list, and to moderators and owners the actions their role allows: kick, ban, mute, unmute, roles, and for owners
// slow mode. The server decides every action (its refusal is shown); the page only offers what the role may do.
import { $, button, el, untilText } from './chat-page-dom.js';

const RANK = { member: 1, moderator: 2, owner: 3 };

/** Text for a refusal: banned and muted users are told until when. */
export function explain(err, room) {
  const reason = err?.details?.reason;
  if (err?.code === 'forbidden' && reason === 'banned') return `you are banned from ${room} ${untilText(err.details.until)}`;
  if (err?.code === 'forbidden' && reason === 'muted') return `you are muted in ${room} ${untilText(err.details.until)}`;
  if (err?.code === 'rate_limited' && err.details?.retryAfterMs) return `slow mode: wait ${Math.ceil(err.details.retryAfterMs / 1000)} s`;
  return err?.message ?? String(err);
}

/**
 * @param {{client: any, me: string | null, room: string | null, admin: boolean, nameOf: (id: string) => string,
 *   addSystem: (text: string) => void, changed: () => void}} ctx
 */
export function createModeration(ctx) {
  let info = null; // room.info's reply for the current room

  function roleOf(userId) {
    if (info?.owners.includes(userId)) return 'owner';
    if (info?.moderators.includes(userId)) return 'moderator';
    return 'member';
  }
  const myRank = () => (ctx.admin ? RANK.owner + 1 : RANK[roleOf(ctx.me)]);
  /** Moderators act on members, owners on moderators and members, admin on everyone. */
  const canActOn = (userId) => userId !== ctx.me && myRank() >= RANK.moderator && myRank() > RANK[roleOf(userId)];

  /** The duration chosen in the moderation panel, as `until` (absent: for good). */
  function until() {
    const minutes = Number($('modDuration').value);
    return minutes > 0 ? { until: Date.now() + minutes * 60_000 } : {};
  }

  async function act(what, text, fn) {
    try {
      await fn();
      ctx.addSystem(text);
    } catch (err) {
      ctx.addSystem(`${what} refused: ${explain(err, ctx.room)}`);
    }
  }

  const actions = {
    kick: (u) => act('Kick', `${ctx.nameOf(u)} was kicked`, () => ctx.client.kick(ctx.room, u)),
    ban: (u) => { const o = until(); return act('Ban', `${ctx.nameOf(u)} is banned ${untilText(o.until)}`, () => ctx.client.ban(ctx.room, u, o)); },
    unban: (u) => act('Unban', `${ctx.nameOf(u)} may join again`, () => ctx.client.unban(ctx.room, u)),
    mute: (u) => { const o = until(); return act('Mute', `${ctx.nameOf(u)} is muted ${untilText(o.until)}`, () => ctx.client.mute(ctx.room, u, o)); },
    unmute: (u) => act('Unmute', `${ctx.nameOf(u)} may talk again`, () => ctx.client.unmute(ctx.room, u)),
    role: (u, role) => act('Role change', `${ctx.nameOf(u)} is now ${role}`, () => ctx.client.setRole(ctx.room, u, role)),
  };

  /** The role badge and, for a user this one may act on, the action buttons of a member list row. */
  function memberExtras(userId) {
    const nodes = [];
    const role = roleOf(userId);
    if (role !== 'member') nodes.push(el('span', `role ${role}`, role === 'moderator' ? 'mod' : role));
    if (!canActOn(userId)) return nodes;
    const name = ctx.nameOf(userId);
    const box = el('span', 'mod-actions');
    box.append(
      button('Kick', `Kick ${name}`, () => void actions.kick(userId), 'ghost small act-kick'),
      button('Ban', `Ban ${name}`, () => void actions.ban(userId), 'ghost small act-ban'),
      button('Mute', `Mute ${name}`, () => void actions.mute(userId), 'ghost small act-mute'),
    );
    if (myRank() >= RANK.owner || role !== 'owner') {
      const next = role === 'moderator' ? 'member' : 'moderator';
      box.append(button(next === 'moderator' ? 'Make mod' : 'Make member', `Make ${name} ${next}`,
        () => void actions.role(userId, next), 'ghost small act-role'));
    }
    nodes.push(box);
    return nodes;
  }

  function renderPanel() {
    const mod = ctx.room !== null && info !== null && myRank() >= RANK.moderator;
    $('modPanel').hidden = !mod;
    $('slowModeRow').hidden = !(mod && myRank() >= RANK.owner);
    if (info) $('slowMode').value = String(info.settings?.slowModeMs ?? 0);
  }

  async function load() {
    info = null;
    const room = ctx.room;
    if (room) {
      const reply = await ctx.client.roomInfo(room).catch(() => null); // a server without roles: none shown
      if (ctx.room !== room) return;
      info = reply;
    }
    renderPanel();
    ctx.changed();
  }

  /** `room.role` push: the lists follow without asking the server again. */
  function onRole({ room, userId, role }) {
    if (room !== ctx.room || !info) return;
    info.owners = info.owners.filter((u) => u !== userId);
    info.moderators = info.moderators.filter((u) => u !== userId);
    if (role === 'owner') info.owners.push(userId);
    if (role === 'moderator') info.moderators.push(userId);
    renderPanel();
    ctx.changed();
  }

  $('modPanel').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const userId = $('modUser').value.trim();
    const action = ev.submitter?.dataset.action;
    if (!userId || !ctx.room || !actions[action]) return;
    void actions[action](userId);
  });
  $('slowMode').addEventListener('change', async () => {
    const slowModeMs = Number($('slowMode').value);
    await act('Slow mode', slowModeMs ? `Slow mode: one message per ${slowModeMs / 1000} s` : 'Slow mode off', async () => {
      const settings = await ctx.client.setRoomSettings(ctx.room, { slowModeMs });
      if (info) info.settings = settings;
    });
  });

  return {
    load,
    onRole,
    memberExtras,
    /** Whether this user may delete someone else's message here (moderator, owner, admin). */
    canDelete: () => ctx.room !== null && myRank() >= RANK.moderator,
    reset() { info = null; renderPanel(); },
  };
}
