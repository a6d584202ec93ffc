import { DiscoveryService } from '@nestjs/core';

/**
 * A person's data, part by part: each feature that stores something about a user (messages, reactions, read
 * markers, roles, ...) provides one `UserDataPart`, registered with `@Injectable()` and listed under
 * USER_DATA_PARTS, so the export (`GET /api/users/:userId/export`) and the erasure (`DELETE /api/users/:userId`)
 * of a person reach every part without knowing them.
 *
 * Guarantees each part gives:
 * - `export` yields the user's records in bounded pages (never the whole history in memory at once); each record is
 *   a plain JSON-serialisable object.
 * - `erase` removes what the part holds of the user from the store itself (not hidden), in bounded batches, and is
 *   idempotent: running it again, also after a crash midway, finishes the job and changes nothing more.
 */
export interface UserDataPart {
  /** The key of this part in the export document, e.g. `messages`, `reactions`, `readMarkers`, `roles`. */
  readonly name: string;
  export(userId: string): AsyncIterable<object>;
  erase(userId: string): Promise<void>;
}

/** The injection token of the list of every UserDataPart (a multi-provider built in the privacy module). */
export const USER_DATA_PARTS = Symbol('USER_DATA_PARTS');

/**
 * Marks a provider class as a UserDataPart: `@UserData() @Injectable() class ReadMarkersPart implements
 * UserDataPart`, listed in its own module's `providers`. The privacy module finds every marked provider of the
 * app (a team's too) through Nest's DiscoveryService when the modules initialise and lists them under
 * USER_DATA_PARTS; nothing else to wire.
 */
export const UserData = DiscoveryService.createDecorator<void>();
