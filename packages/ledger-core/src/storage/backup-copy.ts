// A shard's backup at a cut: one LMDB read transaction, opened at a moment the caller chooses
// (the router opens every shard's while no message is in flight between shards, so the copies
// together are one consistent state), whose named databases are then copied entry by entry into
// a new environment while the shard goes on writing, plus the snapshots that end at or before
// the cut. lmdb-js's env.backup cannot serve: it opens its own read transaction at a later,
// unknown moment, so the copies of two shards could disagree about a saga between them.

import { open, type Database, type RootDatabase, type Transaction } from 'lmdb';
import { statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { assert } from '../assert.js';
import { LedgerError } from '../errors.js';
import { decodeEventRecord } from './event-record.js';
import { syncDir, syncFile } from './durable-files.js';
import type { ShardDatabases } from './lmdb-env.js';
import type { SnapshotStore } from './snapshot-store.js';

/** Bytes of keys and values read per chunk: the entries of one chunk go into the copy in one
 * write transaction while the shard's thread is free, so reading a chunk is the longest the
 * copy holds that thread (about a millisecond per MiB here). */
const chunkBytesMax = 4 * 1024 * 1024;
/** Room in the copy's address space beyond the source file: a logical copy of the same entries
 * is never larger than the file they come from. */
const copyMapSlackBytes = 64 * 1024 * 1024;

/** An open read transaction of a shard and the last sequence its log holds. */
export interface ShardCut {
  readonly transaction: Transaction;
  readonly sequence: number;
}

export interface CopiedShard {
  readonly logSizeBytes: number;
  readonly snapshots: number;
}

/** Creates the copy's dir; an existing one is refused, so a copy never mixes with other files. */
export async function createBackupDir(dir: string): Promise<void> {
  try {
    await mkdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST')
      throw new LedgerError('INVALID_ARGUMENT', { field: 'dir', dir, problem: 'already exists' });
    throw new LedgerError('IO_ERROR', { dir, problem: String((error as Error).message) });
  }
}

/** Opens the cut: synchronous, so it holds exactly what was committed when it is called. The
 * caller ends it with copyCut (or transaction.done()). */
export function openCut(db: ShardDatabases): ShardCut {
  const transaction = db.env.useReadTransaction();
  let sequence = 0;
  for (const { value } of db.log.getRange({ reverse: true, limit: 1, transaction })) {
    const record = decodeEventRecord(value);
    sequence = record.first + record.events.length - 1;
  }
  return { transaction, sequence };
}

export interface CopyCutOptions {
  readonly db: ShardDatabases;
  readonly cut: ShardCut;
  readonly snapshots: SnapshotStore;
  /** Made by createBackupDir. */
  readonly dir: string;
  /** The source's events.mdb, whose size bounds the copy's. */
  readonly sourceFile: string;
}

/** Copies every named database as the cut sees it into `dir`/events.mdb, and the snapshots up to
 * the cut into `dir`/snapshots, all fsynced; ends the cut's transaction whatever happens. */
export async function copyCut(options: CopyCutOptions): Promise<CopiedShard> {
  const { db, cut, dir } = options;
  const logFile = join(dir, 'events.mdb');
  try {
    assertEveryDatabaseHasView(db, cut.transaction);
    const snapshots = await options.snapshots.copyTo(join(dir, 'snapshots'), cut.sequence);
    const target = open({
      path: logFile,
      maxDbs: db.rawViews.size + 1,
      mapSize: statSync(options.sourceFile).size + copyMapSlackBytes,
      // The copy is of no use until all of it is in and the file fsynced below (the router
      // writes the backup's manifest only then), so its commits need no fsync of their own.
      noSync: true,
      overlappingSync: false,
      compression: false,
      encoding: 'binary',
      cache: false,
      eventTurnBatching: true,
    });
    try {
      for (const [name, source] of db.rawViews)
        await copyDatabase(
          source,
          target.openDB<Buffer, Buffer>({ name, encoding: 'binary', keyEncoding: 'binary' }),
          cut.transaction,
        );
      assertLogEndsAtCut(target, cut.sequence);
    } finally {
      await target.close();
    }
    await syncFile(logFile);
    await syncDir(dir);
    return { logSizeBytes: statSync(logFile).size, snapshots };
  } catch (error) {
    if (error instanceof LedgerError) throw error;
    throw new LedgerError('IO_ERROR', { dir, problem: String((error as Error).message) });
  } finally {
    cut.transaction.done();
  }
}

/** A named database the copy would leave out is a bug, not a smaller backup. */
function assertEveryDatabaseHasView(db: ShardDatabases, transaction: Transaction): void {
  for (const name of db.env.getKeys({ transaction })) {
    assert(
      typeof name === 'string' && db.rawViews.has(name),
      'every named database of a shard is copied',
    );
  }
}

/** MDB_APPEND. lmdb-js 3.5.6 takes put options in the version argument's place (write.js) though
 * its types declare only a version number there. */
const appendOptions = { append: true } as unknown as number;

async function copyDatabase(
  source: Database<Buffer, Buffer>,
  target: Database<Buffer, Buffer>,
  transaction: Transaction,
): Promise<void> {
  let after: Buffer | undefined;
  for (;;) {
    let bytes = 0;
    let last: Promise<boolean> | undefined;
    const range =
      after === undefined ? { transaction } : { transaction, start: after, exclusiveStart: true };
    for (const { key, value } of source.getRange(range)) {
      // Keys arrive in LMDB's order, so each one goes at the end of the copy's tree.
      last = target.put(key, value, appendOptions);
      after = key;
      bytes += key.length + value.length;
      if (bytes >= chunkBytesMax) break;
    }
    if (last === undefined) return;
    assert(await last, 'an appended entry is written');
    if (bytes < chunkBytesMax) return;
  }
}

function assertLogEndsAtCut(target: RootDatabase, sequence: number): void {
  const log = target.openDB<Buffer, number>({ name: 'log', encoding: 'binary' });
  let last = 0;
  for (const { value } of log.getRange({ reverse: true, limit: 1 })) {
    const record = decodeEventRecord(value);
    last = record.first + record.events.length - 1;
  }
  assert(last === sequence, 'the copied log ends at the cut');
}
