import { BlockList, isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';

const MAPPED_V4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/**
 * The client's address of a request: the TCP peer's, or, when that peer is one of TRUSTED_PROXIES, the right-most
 * address of `X-Forwarded-For` that is not itself trusted (all trusted: the left-most). From any other peer the
 * header is ignored, so a client cannot choose its own address. Matching is node:net's BlockList (addresses and
 * CIDRs, IPv4 also as IPv4-mapped IPv6). Used by throttling, per-address limits and log lines, and set as
 * Express's `trust proxy` so that `req.ip` says the same.
 */
export class ClientAddresses {
  private readonly trusted: BlockList | undefined;

  constructor(proxies: readonly string[] | undefined) {
    if (!proxies || proxies.length === 0) return;
    this.trusted = new BlockList();
    for (const entry of proxies) {
      const [address, prefix] = entry.split('/');
      const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (prefix === undefined) this.trusted.addAddress(address, family);
      else this.trusted.addSubnet(address, Number(prefix), family);
    }
  }

  /** Whether `address` is one of TRUSTED_PROXIES. */
  isTrusted = (address: string | undefined): boolean => {
    if (!this.trusted || !address) return false;
    const v4 = MAPPED_V4.exec(address)?.[1];
    if (v4 !== undefined && this.trusted.check(v4, 'ipv4')) return true;
    const family = isIP(address);
    return family !== 0 && this.trusted.check(address, family === 6 ? 'ipv6' : 'ipv4');
  };

  of(req: IncomingMessage): string {
    const peer = req.socket.remoteAddress ?? 'unknown';
    if (!this.isTrusted(peer)) return peer;
    const header = req.headers['x-forwarded-for'];
    const chain = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',');
    let client = peer;
    for (let i = chain.length - 1; i >= 0; i--) {
      const hop = chain[i].trim();
      if (isIP(hop) === 0) break; // a malformed hop: what lies left of it cannot be vouched for
      client = hop;
      if (!this.isTrusted(hop)) break;
    }
    return client;
  }
}
