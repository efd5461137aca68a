// A shard's running backups: each copies a cut of the environment (backup-copy.ts) while the
// shard goes on writing; closing the shard waits for them, as LMDB must not close under a copy.

import { join } from 'node:path';
import type { BackupCut, BackupInfo } from './engine-types.js';
import { copyCut, openCut } from './backup-copy.js';
import type { ShardDatabases } from './lmdb-env.js';
import type { SnapshotStore } from './snapshot-store.js';

export class ShardBackups {
  private readonly db: ShardDatabases;
  private readonly snapshots: SnapshotStore;
  /** The shard directory (its environment file is the copy's source). */
  private readonly dir: string;
  private readonly running = new Set<Promise<unknown>>();

  constructor(db: ShardDatabases, snapshots: SnapshotStore, dir: string) {
    this.db = db;
    this.snapshots = snapshots;
    this.dir = dir;
  }

  /** Opens the cut now and starts copying it into `dir` (created, empty, by the caller);
   * `started` is when the backup was asked for (performance.now()). */
  begin(dir: string, started: number): BackupCut {
    const cut = openCut(this.db);
    const copying = copyCut({
      db: this.db,
      cut,
      snapshots: this.snapshots,
      dir,
      sourceFile: join(this.dir, 'events.mdb'),
    });
    this.running.add(copying);
    const done = copying.then((copied): BackupInfo => ({
      dir,
      sequenceAtLeast: cut.sequence,
      ...copied,
      ms: performance.now() - started,
    }));
    void copying.finally(() => this.running.delete(copying)).catch(() => undefined);
    // The caller may ask for the outcome later (or never, if it gave up): not an unhandled
    // rejection meanwhile.
    done.catch(() => undefined);
    return { sequence: cut.sequence, done };
  }

  /** Resolves once every backup running now has ended (whatever its outcome). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }
}
