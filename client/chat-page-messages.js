// The chat page's message list: each message with its reply quote, "(edited)", reactions and the actions the user may
// take on it (reply, react, and edit and delete on their own; moderators delete any). Edits, deletions and reactions
// of others arrive as pushes (chat.updated, chat.deleted, chat.reacted) and change the message in place.
import { $, button, el, time } from './chat-page-dom.js';

const QUICK_REACTIONS = ['👍', '❤️', '😂', '🎉'];

/**
 * @param {{client: any, me: string | null, room: string | null, nameOf: (id: string, fallback?: string) => string,
 *   canDelete: (m: any) => boolean, addSystem: (text: string) => void, explain: (err: any) => string}} ctx
 */
export function createMessageList(ctx) {
  const bySeq = new Map(); // seq -> Message, the current room's shown messages
  const mine = new Map(); // seq -> Set of reactions this user gave (as far as this page saw)
  let replyTo = null; // the Message the composer answers

  const list = () => $('messages');
  const itemOf = (seq) => list().querySelector(`li.msg[data-seq="${seq}"]`);

  function quote(m) {
    const target = bySeq.get(m.replyTo);
    const who = target ? target.name ?? ctx.nameOf(target.userId) : `#${m.replyTo}`;
    const text = !target ? '' : target.deleted ? 'message deleted' : target.text.slice(0, 80);
    const node = el('div', 'reply-to', `↪ ${who}${text ? `: ${text}` : ''}`);
    node.title = 'The message this one replies to';
    node.addEventListener('click', () => itemOf(m.replyTo)?.scrollIntoView({ block: 'center' }));
    return node;
  }

  function reactionChips(m) {
    const box = el('div', 'reactions');
    for (const [reaction, count] of Object.entries(m.reactions ?? {})) {
      if (count <= 0) continue;
      const pressed = mine.get(m.seq)?.has(reaction) ?? false;
      const chip = button(`${reaction} ${count}`, `${reaction}: ${count}; ${pressed ? 'take back your reaction' : 'react'}`,
        () => void react(m, reaction, !pressed), 'reaction');
      chip.dataset.reaction = reaction;
      chip.setAttribute('aria-pressed', String(pressed));
      box.append(chip);
    }
    return box;
  }

  function actions(m) {
    const box = el('div', 'actions');
    if (m.deleted) return box;
    box.append(button('Reply', `Reply to ${m.name ?? ctx.nameOf(m.userId)}`, () => startReply(m), 'ghost act-reply'));
    for (const r of QUICK_REACTIONS) {
      const give = !(mine.get(m.seq)?.has(r) ?? false);
      box.append(button(r, give ? `React with ${r}` : `Take back ${r}`, () => void react(m, r, give), 'ghost act-react'));
    }
    if (m.userId === ctx.me) box.append(button('Edit', 'Edit your message', () => startEdit(m), 'ghost act-edit'));
    if (m.userId === ctx.me || ctx.canDelete(m)) {
      box.append(button('Delete', m.userId === ctx.me ? 'Delete your message' : `Delete ${m.name ?? ctx.nameOf(m.userId)}’s message`,
        () => void remove(m), 'ghost act-delete'));
    }
    return box;
  }

  /** The list item of a message, built from scratch (also to re-render it after a change). */
  function render(m) {
    const mentioned = !m.deleted && ctx.me !== null && (m.mentions ?? []).includes(ctx.me);
    const li = el('li', ['msg', m.userId === ctx.me ? 'mine' : '', mentioned ? 'mention' : '', m.deleted ? 'deleted' : ''].filter(Boolean).join(' '));
    li.dataset.seq = String(m.seq);
    if (m.replyTo) li.append(quote(m));
    const meta = el('div', 'meta');
    meta.append(el('span', 'who', m.name ?? ctx.nameOf(m.userId)), el('span', 'time', time(m.ts)));
    if (m.editedAt && !m.deleted) {
      const edited = el('span', 'edited', '(edited)');
      edited.title = `edited ${new Date(m.editedAt).toLocaleString()}`;
      meta.append(edited);
    }
    li.append(meta, el('div', 'text', m.deleted ? 'message deleted' : m.text), reactionChips(m), actions(m));
    return li;
  }

  function add(m) {
    if (bySeq.has(m.seq)) return update(m);
    bySeq.set(m.seq, m);
    const ul = list();
    const atBottom = ul.scrollHeight - ul.scrollTop - ul.clientHeight < 40;
    ul.querySelector('.placeholder')?.remove();
    ul.append(render(m));
    if (atBottom || m.userId === ctx.me) ul.scrollTop = ul.scrollHeight;
  }

  /** Replaces a shown message (an edit, a deletion, new reactions); replies quoting it are re-rendered too. */
  function update(m) {
    if (!bySeq.has(m.seq)) return; // not shown (older than what the page loaded)
    bySeq.set(m.seq, m);
    itemOf(m.seq)?.replaceWith(render(m));
    for (const reply of bySeq.values()) if (reply.replyTo === m.seq) itemOf(reply.seq)?.replaceWith(render(reply));
    if (replyTo?.seq === m.seq) m.deleted ? cancelReply() : showReplyBar(m);
  }

  function deleted(seq) {
    const m = bySeq.get(seq);
    if (m) update({ ...m, text: '', deleted: true, mentions: undefined, reactions: undefined });
  }

  function reacted({ seq, reaction, userId, on, count }) {
    const m = bySeq.get(seq);
    if (!m) return;
    if (userId === ctx.me) setMine(seq, reaction, on);
    update({ ...m, reactions: { ...m.reactions, [reaction]: count } });
  }

  function setMine(seq, reaction, on) {
    const set = mine.get(seq) ?? new Set();
    if (on) set.add(reaction); else set.delete(reaction);
    mine.set(seq, set);
  }

  async function react(m, reaction, on) {
    try {
      const reactions = await ctx.client.react(m.room, m.seq, reaction, on);
      setMine(m.seq, reaction, on);
      const current = bySeq.get(m.seq);
      if (current) update({ ...current, reactions });
    } catch (err) {
      ctx.addSystem(`Reaction not changed: ${ctx.explain(err)}`);
    }
  }

  async function remove(m) {
    try {
      await ctx.client.delete(m.room, m.seq);
      deleted(m.seq);
    } catch (err) {
      ctx.addSystem(`Not deleted: ${ctx.explain(err)}`);
    }
  }

  function startEdit(m) {
    const li = itemOf(m.seq);
    if (!li || li.querySelector('form.edit')) return;
    const form = el('form', 'edit');
    const input = el('input');
    input.value = m.text;
    input.maxLength = 4000;
    input.setAttribute('aria-label', 'New text of your message');
    const save = el('button', '', 'Save');
    save.type = 'submit';
    form.append(input, save, button('Cancel', 'Cancel the edit', () => update(bySeq.get(m.seq) ?? m)));
    input.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') update(bySeq.get(m.seq) ?? m); });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (!input.value.trim() || input.value === m.text) return update(bySeq.get(m.seq) ?? m);
      try {
        update(await ctx.client.edit(m.room, m.seq, input.value));
      } catch (err) {
        ctx.addSystem(`Not edited: ${ctx.explain(err)}`);
      }
    });
    li.querySelector('.text').replaceWith(form);
    input.focus();
  }

  function showReplyBar(m) {
    $('replyText').textContent = `Replying to ${m.name ?? ctx.nameOf(m.userId)}: ${m.text.slice(0, 80)}`;
    $('replyBar').hidden = false;
  }

  function startReply(m) {
    replyTo = m;
    showReplyBar(m);
    $('text').focus();
  }

  function cancelReply() {
    replyTo = null;
    $('replyBar').hidden = true;
  }

  $('cancelReply').addEventListener('click', cancelReply);

  return {
    add,
    update,
    deleted,
    reacted,
    cancelReply,
    /** The seq the next message answers, if any. */
    get replyTo() { return replyTo?.seq; },
    /** The newest seq shown. */
    get lastSeq() { return Math.max(0, ...bySeq.keys()); },
    /** Every message re-rendered: the user's rights changed (a role), or names arrived. */
    rerender() { for (const m of bySeq.values()) itemOf(m.seq)?.replaceWith(render(m)); },
    reset() { bySeq.clear(); mine.clear(); cancelReply(); list().replaceChildren(); },
  };
}
