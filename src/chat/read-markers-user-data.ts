import { Injectable } from '@nestjs/common';
import { UserData, type UserDataPart } from '../privacy/user-data';
import { type ReadMarker, ReadMarkers } from './read-markers';

/** Markers read or erased per query. */
const PAGE = 500;

/**
 * A person's read markers, for the export (`readMarkers`: `{room, seq, updatedAt}` by room name, in pages) and the
 * erasure (deleted from the store in batches; running it again finishes the job and then changes nothing).
 */
@UserData()
@Injectable()
export class ReadMarkersUserData implements UserDataPart {
  readonly name = 'readMarkers';

  constructor(private readonly markers: ReadMarkers) {}

  async *export(userId: string): AsyncIterable<ReadMarker> {
    for (let after: string | undefined; ;) {
      const page = await this.markers.page(userId, after, PAGE);
      yield* page;
      if (page.length < PAGE) return;
      after = page[page.length - 1].room;
    }
  }

  async erase(userId: string): Promise<void> {
    while ((await this.markers.erase(userId, PAGE)) > 0);
  }
}
