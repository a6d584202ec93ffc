import type { IncomingMessage } from 'node:http';
import { ClientAddresses } from './client-address';

function req(peer: string, xff?: string | string[]): IncomingMessage {
  return {
    socket: { remoteAddress: peer },
    headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
  } as unknown as IncomingMessage;
}

describe('ClientAddresses (TRUSTED_PROXIES)', () => {
  const addresses = new ClientAddresses(['10.0.0.0/8', '192.0.2.7', 'fd00::/8']);

  it('takes the right-most address of X-Forwarded-For that is not itself trusted', () => {
    expect(addresses.of(req('10.1.2.3', '203.0.113.9'))).toBe('203.0.113.9');
    expect(addresses.of(req('10.1.2.3', '198.51.100.1, 203.0.113.9'))).toBe('203.0.113.9');
    expect(addresses.of(req('10.1.2.3', '198.51.100.1, 203.0.113.9, 10.9.9.9'))).toBe(
      '203.0.113.9',
    );
    expect(addresses.of(req('192.0.2.7', ['198.51.100.1', '203.0.113.9, 192.0.2.7']))).toBe(
      '203.0.113.9',
    );
    expect(addresses.of(req('fd00::1', '2001:db8::5'))).toBe('2001:db8::5');
    expect(addresses.of(req('::ffff:10.0.0.1', '203.0.113.9'))).toBe('203.0.113.9');
  });

  it('ignores the header from any other peer', () => {
    expect(addresses.of(req('203.0.113.50', '198.51.100.1'))).toBe('203.0.113.50');
    expect(addresses.of(req('192.0.2.8', '198.51.100.1'))).toBe('192.0.2.8');
    expect(new ClientAddresses(undefined).of(req('10.1.2.3', '198.51.100.1'))).toBe('10.1.2.3');
  });

  it('stops at a malformed hop, and without the header keeps the peer', () => {
    expect(addresses.of(req('10.1.2.3', 'evil, 10.2.2.2'))).toBe('10.2.2.2');
    expect(addresses.of(req('10.1.2.3'))).toBe('10.1.2.3');
  });
});
