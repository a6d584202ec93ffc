// The dashboard's room view beyond members: its messages with edits and deletions (and a delete button), its roles,
// bans and mutes, its audit log, and the moderation actions of the server API (roles, kick, ban, mute, delete).
// Lists are re-rendered on every refresh; the forms are static in admin.html, so what is typed there stays.

/** @param {{api: (method: string, path: string, body?: unknown) => Promise<any>, el: Function, $: Function}} deps */
export function createRoomTools({ api, el, $ }) {
  let room; // the room shown
  const audit = { cursors: [undefined], page: 0 };

  const enc = (s) => encodeURIComponent(s);
  const when = (ts) => new Date(ts).toLocaleString([], { dateStyle: 'short', timeStyle: 'medium' });
  const untilText = (until) => (until === undefined || until === null ? 'for good' : `until ${when(until)}`);

  function note(text, isError = false) {
    $('roomNote').textContent = text;
    $('roomNote').className = `note${isError ? ' error' : ''}`;
  }

  function smallButton(text, label, onClick, className = 'ghost small') {
    const b = el('button', text, className);
    b.type = 'button';
    b.setAttribute('aria-label', label);
    b.addEventListener('click', onClick);
    return b;
  }

  /** Runs an action, says what happened, and refreshes the view. */
  async function act(done, fn) {
    try {
      await fn();
      note(done);
    } catch (err) {
      note(err.message, true);
    }
    await refresh().catch(() => {});
  }

  const actions = {
    kick: (userId) => act(`Kicked ${userId} out of ${room}.`, () => api('POST', `/api/rooms/${enc(room)}/kicks`, { userId })),
    ban: (userId, until, reason) => act(`Banned ${userId} from ${room} ${untilText(until)}.`,
      () => api('POST', `/api/rooms/${enc(room)}/bans`, { userId, until, reason })),
    unban: (userId) => act(`Lifted the ban of ${userId}.`, () => api('DELETE', `/api/rooms/${enc(room)}/bans/${enc(userId)}`)),
    mute: (userId, until) => act(`Muted ${userId} in ${room} ${untilText(until)}.`,
      () => api('POST', `/api/rooms/${enc(room)}/mutes`, { userId, until })),
    unmute: (userId) => act(`Lifted the mute of ${userId}.`, () => api('DELETE', `/api/rooms/${enc(room)}/mutes/${enc(userId)}`)),
    role: (userId, role) => act(`${userId} is now ${role} of ${room}.`,
      () => api('PUT', `/api/rooms/${enc(room)}/roles/${enc(userId)}`, { role })),
    delete: (m) => act(`Deleted message #${m.seq} of ${m.userId}.`, () => api('DELETE', `/api/rooms/${enc(room)}/messages/${m.seq}`)),
  };

  /** The `until` the duration select asks for (absent: for good). */
  function chosenUntil() {
    const ms = Number($('restrictFor').value);
    return ms > 0 ? Date.now() + ms : undefined;
  }

  /** Members with kick, ban and mute buttons (ban and mute for the chosen duration). */
  function renderMembers(members) {
    $('roomMembers').replaceChildren(...(members.length ? members.map((m) => {
      const li = el('li');
      li.dataset.userId = m.userId;
      li.append(el('span', `${m.name ?? m.userId} · ${m.status} · ${m.connections} conn.`));
      const box = el('span', undefined, 'row-actions');
      box.append(
        smallButton('Kick', `Kick ${m.userId}`, () => void actions.kick(m.userId)),
        smallButton('Ban', `Ban ${m.userId}`, () => void actions.ban(m.userId, chosenUntil())),
        smallButton('Mute', `Mute ${m.userId}`, () => void actions.mute(m.userId, chosenUntil())),
      );
      li.append(box);
      return li;
    }) : [el('li', 'nobody', 'muted')]));
  }

  /** Messages as stored: edited ones marked, deleted ones as tombstones; the others can be deleted. */
  function renderMessages(messages) {
    $('roomMessages').replaceChildren(...(messages.length ? messages.map((m) => {
      const li = el('li', undefined, m.deleted ? 'deleted' : '');
      li.dataset.seq = String(m.seq);
      li.append(el('span', `#${m.seq}`, 'seq'), el('span', new Date(m.ts).toLocaleTimeString(), 'time'), el('span', m.name ?? m.userId, 'who'));
      if (m.deleted) {
        li.append(el('span', 'message deleted', 'text tombstone'));
        return li;
      }
      li.append(el('span', m.text, 'text'));
      if (m.editedAt) {
        const edited = el('span', 'edited', 'badge edited');
        edited.title = `edited ${when(m.editedAt)}`;
        li.append(edited);
      }
      li.append(smallButton('Delete', `Delete message #${m.seq} of ${m.userId}`, () => void actions.delete(m), 'ghost small danger-text'));
      return li;
    }) : [el('li', 'no messages', 'muted')]));
  }

  async function renderStanding() {
    let info;
    try {
      info = await api('GET', `/api/rooms/${enc(room)}/moderation`);
    } catch (err) {
      if (err.status !== 404) throw err;
      $('roomRoles').replaceChildren(el('li', 'not available on this server', 'muted'));
      $('roomRestrictions').replaceChildren();
      return;
    }
    const roles = [...info.owners.map((u) => [u, 'owner']), ...info.moderators.map((u) => [u, 'moderator'])];
    $('roomRoles').replaceChildren(...(roles.length ? roles.map(([userId, role]) => {
      const li = el('li');
      li.dataset.userId = userId;
      li.append(el('span', userId), el('span', role, `badge role ${role}`),
        smallButton('Remove', `Make ${userId} a member`, () => void actions.role(userId, 'member')));
      return li;
    }) : [el('li', 'no owner or moderator', 'muted')]));
    const rows = [
      ...info.bans.map((b) => ({ ...b, kind: 'ban' })),
      ...info.mutes.map((m) => ({ ...m, kind: 'mute' })),
    ];
    $('roomRestrictions').replaceChildren(...(rows.length ? rows.map((r) => {
      const li = el('li');
      li.dataset.userId = r.userId;
      li.dataset.kind = r.kind;
      li.append(el('span', r.kind === 'ban' ? 'banned' : 'muted', `badge ${r.kind}`), el('span', ` ${r.userId} ${untilText(r.until)}`));
      if (r.reason) li.append(el('span', ` (${r.reason})`, 'muted'));
      li.append(r.kind === 'ban'
        ? smallButton('Unban', `Unban ${r.userId}`, () => void actions.unban(r.userId))
        : smallButton('Unmute', `Unmute ${r.userId}`, () => void actions.unmute(r.userId)));
      return li;
    }) : [el('li', 'nobody banned or muted', 'muted')]));
    $('settingsNow').textContent = `slow mode: ${info.settings.slowModeMs ? `${info.settings.slowModeMs} ms` : 'off'} · retention: ${info.settings.retentionDays ? `${info.settings.retentionDays} days` : 'server default'}`;
  }

  function auditDetails(e) {
    const parts = [];
    if (e.role) parts.push(`role ${e.role}`);
    if (e.until !== undefined) parts.push(untilText(e.until));
    if (e.reason) parts.push(`“${e.reason}”`);
    if (e.settings) parts.push(JSON.stringify(e.settings));
    return parts.join(' · ');
  }

  async function renderAudit() {
    const q = new URLSearchParams({ limit: '20' });
    const before = audit.cursors[audit.page];
    if (before !== undefined) q.set('before', String(before));
    let data;
    try {
      data = await api('GET', `/api/rooms/${enc(room)}/audit?${q}`);
    } catch (err) {
      if (err.status !== 404) throw err;
      data = { entries: [] };
    }
    const body = $('roomAudit').tBodies[0];
    body.replaceChildren(...data.entries.map((e) => {
      const tr = el('tr');
      tr.dataset.action = e.action;
      tr.append(el('td', when(e.ts)), el('td', e.action), el('td', e.userId), el('td', e.by), el('td', auditDetails(e)));
      return tr;
    }));
    if (!data.entries.length) {
      const tr = el('tr');
      const td = el('td', 'no moderation action yet', 'empty');
      td.colSpan = 5;
      tr.append(td);
      body.append(tr);
    }
    audit.cursors[audit.page + 1] = data.next;
    $('auditOlder').disabled = data.next === undefined;
    $('auditNewer').disabled = audit.page === 0;
  }

  async function refresh() {
    if (!room) return;
    await Promise.all([renderStanding(), renderAudit()]);
  }

  $('roleForm').addEventListener('submit', (ev) => {
    ev.preventDefault();
    void actions.role($('roleUser').value.trim(), $('roleValue').value);
  });
  $('restrictForm').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const userId = $('restrictUser').value.trim();
    if (ev.submitter?.dataset.action === 'mute') return void actions.mute(userId, chosenUntil());
    void actions.ban(userId, chosenUntil(), $('restrictReason').value.trim() || undefined);
  });
  $('slowModeForm').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const slowModeMs = Number($('slowModeValue').value);
    void act(`Slow mode of ${room}: ${slowModeMs ? `${slowModeMs} ms` : 'off'}.`,
      () => api('PUT', `/api/rooms/${enc(room)}/settings`, { slowModeMs }));
  });
  $('auditOlder').addEventListener('click', () => { audit.page++; void renderAudit().catch((err) => note(err.message, true)); });
  $('auditNewer').addEventListener('click', () => { audit.page = Math.max(0, audit.page - 1); void renderAudit().catch((err) => note(err.message, true)); });

  return {
    /** Shows `next` (a new room starts at the newest audit page). */
    open(next) {
      if (next !== room) { audit.cursors = [undefined]; audit.page = 0; note(''); }
      room = next;
    },
    close() { room = undefined; },
    renderMembers,
    renderMessages,
    refresh,
  };
}
