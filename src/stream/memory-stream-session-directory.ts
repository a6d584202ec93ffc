import { nodeOfSession, StreamSessionDirectory } from './stream-session-directory';

/** One instance: its own sessions, in memory. */
export class MemoryStreamSessionDirectory extends StreamSessionDirectory {
  private readonly owners = new Map<string, string>();

  register(session: string, userId: string): Promise<void> {
    this.owners.set(session, userId);
    return Promise.resolve();
  }

  remove(session: string): Promise<void> {
    this.owners.delete(session);
    return Promise.resolve();
  }

  ownerOf(session: string): Promise<string | undefined> {
    return Promise.resolve(this.owners.get(session));
  }

  dropNode(node: string): Promise<void> {
    for (const session of this.owners.keys()) {
      if (nodeOfSession(session) === node) this.owners.delete(session);
    }
    return Promise.resolve();
  }
}
