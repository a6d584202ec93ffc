import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { UserData, type UserDataPart } from './user-data';

/** The order of the known parts in the export document; other parts follow, by name. */
const ORDER = ['messages', 'readMarkers', 'reactions', 'roles', 'presence'];
const rank = (name: string): number => {
  const i = ORDER.indexOf(name);
  return i < 0 ? ORDER.length : i;
};

/**
 * Every provider marked `@UserData()`, found once when the modules initialise (Nest has made every provider by
 * then), in the order of the export document. Two parts of the same name stop the start, naming both classes.
 */
@Injectable()
export class UserDataParts implements OnModuleInit {
  /** Filled in place at module init: USER_DATA_PARTS is this array. */
  readonly parts: UserDataPart[] = [];

  constructor(private readonly discovery: DiscoveryService) {}

  onModuleInit(): void {
    const found = new Map<string, UserDataPart>();
    for (const wrapper of this.discovery.getProviders({ metadataKey: UserData.KEY })) {
      const part = wrapper.instance as UserDataPart | undefined;
      if (!part || found.get(part.name) === part) continue;
      const other = found.get(part.name);
      if (other) {
        throw new Error(
          `Two user data parts are named ${part.name}: ${other.constructor.name} and ${part.constructor.name}`,
        );
      }
      found.set(part.name, part);
    }
    const sorted = [...found.values()].sort(
      (a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name),
    );
    this.parts.splice(0, this.parts.length, ...sorted);
  }
}
