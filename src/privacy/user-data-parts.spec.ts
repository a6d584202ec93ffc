import type { DiscoveryService } from '@nestjs/core';
import type { UserDataPart } from './user-data';
import { UserData } from './user-data';
import { UserDataParts } from './user-data-parts';

/** A part named `name` (nothing to export or erase: only the listing is under test). */
const part = (name: string): UserDataPart => ({
  name,
  export: async function* () {},
  erase: () => Promise.resolve(),
});

/** A DiscoveryService that finds these instances as providers marked `@UserData()` (and checks the key asked). */
const discovering = (...instances: UserDataPart[]): DiscoveryService =>
  ({
    getProviders: (options?: { metadataKey?: string }) => {
      expect(options?.metadataKey).toBe(UserData.KEY);
      return instances.map((instance) => ({ instance }));
    },
  }) as unknown as DiscoveryService;

describe('UserDataParts', () => {
  it('lists the known parts in the export order, then the others by name, each instance once', () => {
    const messages = part('messages');
    const parts = new UserDataParts(
      discovering(part('zeta'), part('presence'), messages, part('roles'), part('alpha'), messages),
    );
    parts.onModuleInit();
    expect(parts.parts.map((p) => p.name)).toEqual([
      'messages',
      'roles',
      'presence',
      'alpha',
      'zeta',
    ]);
  });

  it('stops the start when two parts share a name', () => {
    const parts = new UserDataParts(discovering(part('roles'), part('roles')));
    expect(() => parts.onModuleInit()).toThrow(/Two user data parts are named roles/);
  });
});
