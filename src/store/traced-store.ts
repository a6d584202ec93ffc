import type { MessageStore } from './message-store';
import type { Tracing } from '../tracing/tracing.service';

/**
 * Makes every append of this store a `store append` span (room and duplicate flag as attributes). The store is
 * returned untouched when tracing is off.
 */
export function tracedMessageStore<T extends MessageStore>(store: T, tracing: Tracing): T {
  if (!tracing.enabled) return store;
  const append = store.append.bind(store);
  store.append = (message) =>
    tracing.span('store append', { 'hubbub.room': message.room }, async () => {
      const result = await append(message);
      if (result.duplicate) tracing.annotate({ 'hubbub.duplicate': true });
      return result;
    });
  return store;
}
