// Small DOM helpers shared by the chat page's modules. User data only ever goes through textContent.

export const $ = (id) => document.getElementById(id);

/** An element with a class and text (never parsed as HTML). */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A `type="button"` button with a visible text and, when the text alone is not enough, an accessible label. */
export function button(text, label, onClick, className = 'ghost') {
  const node = el('button', className, text);
  node.type = 'button';
  if (label) node.setAttribute('aria-label', label);
  node.addEventListener('click', onClick);
  return node;
}

export function time(ts) {
  return new Date(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** "until 14:05", "until 12/24/2026, 14:05" (not today), or "for good" when there is no end. */
export function untilText(until) {
  if (until === undefined || until === null) return 'for good';
  const d = new Date(until);
  const today = d.toDateString() === new Date().toDateString();
  return `until ${today ? time(until) : d.toLocaleString([], { dateStyle: 'short', timeStyle: 'short' })}`;
}
