import {
  ChannelSubscribers,
  pageOf,
  type ChannelListQuery,
  type ChannelPage,
} from './channel-subscribers';

/** Local counts, kept by the instance that holds the connections (one instance: that is everyone). */
export class MemoryChannelSubscribers extends ChannelSubscribers {
  protected readonly local = new Map<string, number>();

  add(channel: string): void {
    this.local.set(channel, (this.local.get(channel) ?? 0) + 1);
  }

  remove(channel: string): void {
    const n = (this.local.get(channel) ?? 0) - 1;
    if (n > 0) this.local.set(channel, n);
    else this.local.delete(channel);
  }

  count(channel: string): Promise<number> {
    return Promise.resolve(this.local.get(channel) ?? 0);
  }

  list(query: ChannelListQuery): Promise<ChannelPage> {
    return Promise.resolve(pageOf(this.local, query));
  }

  dropNode(_node: string): Promise<void> {
    return Promise.resolve(); // counts only this instance
  }
}
