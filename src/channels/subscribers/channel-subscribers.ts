/** One page of channels with subscribers, by name. */
export interface ChannelPage {
  channels: { channel: string; subscribers: number }[];
  /** Pass as `cursor` for the next page; absent on the last one. */
  next?: string;
}

export interface ChannelListQuery {
  prefix?: string;
  limit: number;
  /** The `next` of the previous page: channels after it by name. */
  cursor?: string;
}

/**
 * How many connections are subscribed to each channel, cluster-wide. Instances report their own subscriptions
 * through add/remove (cheap, synchronous; a backend writes in the background) and read everyone's.
 */
export abstract class ChannelSubscribers {
  abstract add(channel: string): void;
  abstract remove(channel: string): void;
  abstract count(channel: string): Promise<number>;
  abstract list(query: ChannelListQuery): Promise<ChannelPage>;
  /** Removes a dead instance's counts from the shared store (NodeLiveness, on the instance that reaps it). */
  abstract dropNode(node: string): Promise<void>;
  /** Writes this instance's counts again after the shared store lost them (see Broker.restore). */
  restore(): Promise<void> {
    return Promise.resolve();
  }
}

/** Sorts merged counts by name, filters and cuts one page. Shared by every backend. */
export function pageOf(counts: ReadonlyMap<string, number>, query: ChannelListQuery): ChannelPage {
  const names = [...counts.keys()]
    .filter(
      (c) =>
        (query.prefix === undefined || c.startsWith(query.prefix)) &&
        (query.cursor === undefined || c > query.cursor) &&
        (counts.get(c) ?? 0) > 0,
    )
    .sort();
  const page = names.slice(0, query.limit);
  const result: ChannelPage = {
    channels: page.map((channel) => ({ channel, subscribers: counts.get(channel)! })),
  };
  if (names.length > page.length) result.next = page[page.length - 1];
  return result;
}
