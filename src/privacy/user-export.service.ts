import { Inject, Injectable } from '@nestjs/common';
import { Readable } from 'node:stream';
import { USER_DATA_PARTS, type UserDataPart } from './user-data';

/** Bytes gathered before a chunk goes to the response: few writes, and never more than this held per export. */
const CHUNK_BYTES = 64 * 1024;

/**
 * The export of a person: one JSON document, `{"userId": …, "<part>": [records…], …}` with a key per UserDataPart
 * (messages, readMarkers, reactions, roles, presence, …), written part by part and page by page as the response
 * reads it (a pull stream: a slow reader pauses the export), so memory holds one page and one chunk, never a
 * history.
 */
@Injectable()
export class UserExportService {
  constructor(@Inject(USER_DATA_PARTS) private readonly parts: UserDataPart[]) {}

  stream(userId: string): Readable {
    return Readable.from(this.document(userId), { objectMode: false });
  }

  private async *document(userId: string): AsyncGenerator<string> {
    let chunk = `{"userId":${JSON.stringify(userId)}`;
    for (const part of this.parts) {
      chunk += `,${JSON.stringify(part.name)}:[`;
      let first = true;
      for await (const record of part.export(userId)) {
        chunk += (first ? '' : ',') + JSON.stringify(record);
        first = false;
        if (chunk.length >= CHUNK_BYTES) {
          yield chunk;
          chunk = '';
        }
      }
      chunk += ']';
    }
    yield `${chunk}}\n`;
  }
}
