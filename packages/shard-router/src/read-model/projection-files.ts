// A read-model file opened for projecting one ledger: the caller's connection (queries and the
// stored watermarks) and the projector worker that writes it.

import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { LedgerError, isLedgerError } from '@shardledger/ledger-core';
import type { Ledger } from '../ledger.js';
import type { LedgerInfo } from '../ledger-types.js';
import { ProjectorClient } from './projector-client.js';
import { watermarksOf } from './queries.js';
import { openReadModelDb, readModelSchemaVersion, type ReadModelDb } from './read-model-db.js';

export interface ProjectionFiles {
  readonly db: ReadModelDb;
  readonly projector: ProjectorClient;
}

/** Opens the file and checks that it projects this ledger (its ledgerId, hash and shard count),
 * then starts the projector worker on it at `niceness`. */
export async function openProjectionFiles(
  ledger: Ledger,
  path: string,
  niceness: number,
): Promise<ProjectionFiles> {
  const info = await ledger.info();
  const db = await openCurrentSchema(path);
  try {
    checkLedger(db, path, info);
    // A file ahead of a shard's log holds rows of events that log does not have (lost to a
    // power cut after they were projected). Following on from its watermark would skip the
    // events that take those sequence numbers next, so the file is started again from the log.
    const ahead = watermarksOf(db).some(
      (mark) => mark.sequence > (info.shardInfo[mark.shard]?.lastSequence ?? 0),
    );
    if (ahead) {
      db.close();
      await removeDbFiles(path);
      return await openProjectionFiles(ledger, path, niceness);
    }
    const projector = await ProjectorClient.open({ path, niceness });
    return { db, projector };
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Opens the file for projecting. A file that an older build wrote in an older schema holds
 * nothing the logs do not: it is started again from the log, as a rebuild would. A file of a
 * newer schema (a newer build's) is refused with INVALID_ARGUMENT, as is anything else. */
async function openCurrentSchema(path: string): Promise<ReadModelDb> {
  try {
    return openReadModelDb({ path, readonly: false });
  } catch (error) {
    const version = isLedgerError(error, 'INVALID_ARGUMENT') ? error.detail['schemaVersion'] : null;
    if (typeof version !== 'number' || version >= readModelSchemaVersion) throw error;
    await removeDbFiles(path);
    return openReadModelDb({ path, readonly: false });
  }
}

/** Records which ledger the file projects, or refuses a file that projects another one. */
function checkLedger(db: ReadModelDb, path: string, info: LedgerInfo): void {
  // Which ledger: its id, plus the shape its watermarks depend on.
  const identity = `${info.hash}/${info.shards}/${info.ledgerId}`;
  // A file that names the shape only (no ledger id) is taken for this ledger, and gets its id.
  const shapeOnly = `${info.hash}/${info.shards}`;
  const row = db.prepare("SELECT value FROM meta WHERE key = 'ledger'").get() as
    { value: string } | undefined;
  if (row === undefined || row.value === shapeOnly) {
    db.prepare(
      "INSERT INTO meta (key, value) VALUES ('ledger', ?) " +
        'ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ).run(identity);
  } else if (row.value !== identity) {
    throw new LedgerError('INVALID_ARGUMENT', {
      path,
      ledger: 'the file projects another ledger',
    });
  }
}

/** Removes a SQLite file with its write-ahead log and shared-memory index, where present. */
export async function removeDbFiles(path: string): Promise<void> {
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(path + suffix)) await rm(path + suffix, { force: true });
  }
}
