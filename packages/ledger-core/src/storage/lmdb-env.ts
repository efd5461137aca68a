// Opens the one LMDB environment of a shard, with every option that matters written out.

import { open, type Database, type RootDatabase } from 'lmdb';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { WriterRecord } from './writer-fence.js';
import { checkEnvFile } from './env-check.js';

/** A history index key: [account ordinal, sequence], or [ordinal, sequence, leg] for the second
 * and later postings of one saga step to one account (history-postings.ts). */
export type HistoryKey = [number, number] | [number, number, number];

export interface ShardDatabases {
  readonly env: RootDatabase;
  /** sequence of the first event of a group commit -> encoded EventRecord. Append-only. */
  readonly log: Database<Buffer, number>;
  /** transfer id -> encoded TransferRecord (the idempotency index; on disk, not in memory). */
  readonly transfers: Database<Buffer, string>;
  /** first id of a run of plain transfers -> the run's records (plain-run.ts): the
   * lane's part of the idempotency index, one entry per group commit. */
  readonly runs: Database<Buffer, string>;
  /** [run number, 0] -> a run's head, [run number, chunk] -> a chunk of its random-id plain
   * transfers, sorted (scattered-run.ts): the lane's part of the idempotency index for ids
   * that are not ordered. */
  readonly scatteredRuns: Database<Buffer, [number, number]>;
  /** saga id -> 'committed' | 'released', the final outcome. Open sagas are reservations in the
   * state; an index written by an older version may also hold 'reserved' for them (never read:
   * the reservation is found first, and the closing step overwrites it). */
  readonly sagas: Database<string, string>;
  /** first saga id of a run -> the run's final outcomes (saga-run.ts): the saga
   * index's batched part, one entry per group commit; `sagas` holds the outcomes outside runs. */
  readonly sagaRuns: Database<Buffer, string>;
  /** [account ordinal, sequence] -> encoded history entry (counters after the posting). */
  readonly history: Database<Buffer, HistoryKey>;
  /** bookkeeping: 'indexedThrough' and time index 't' + timestamp key -> first sequence. */
  readonly meta: Database<number, string>;
  /** The writer fence (writer-fence.ts): one entry whose LMDB version is the fence token. */
  readonly writer: Database<WriterRecord, string>;
  /** Every named database above again, by name, with its keys and values as raw bytes: a copy
   * (backup-copy.ts) moves entries without decoding them. Opened here, with the others, because
   * opening a database later takes a write transaction and resets the thread's read transaction. */
  readonly rawViews: ReadonlyMap<string, Database<Buffer, Buffer>>;
}

export function openShardDatabases(dir: string, mapSizeBytes: number): ShardDatabases {
  mkdirSync(dir, { recursive: true });
  // LMDB maps the file as its meta pages describe it; a damaged one would crash the process.
  checkEnvFile(dir);
  const env = open({
    path: join(dir, 'events.mdb'),
    // Several named databases share the environment, and so one write transaction.
    maxDbs: 12,
    // Address space reserved up front; the file grows with the data, not with this number.
    mapSize: mapSizeBytes,
    // Each commit is synced before it is visible, and before the next one starts. Not lmdb-js'
    // overlappingSync (commits visible before their fsync): with it, a second process that opens
    // the environment while the shard's writer runs (a writer the dir lock missed, which the
    // writer fence then refuses) reads and writes from an older snapshot until its first commit,
    // and that commit rolls back the writer's last commits, acknowledged ones included. Never
    // noSync: a crash could corrupt the file.
    overlappingSync: false,
    noSync: false,
    noMetaSync: false,
    // Values are our own binary encodings; no compression on the hot path.
    compression: false,
    encoding: 'binary',
    // No decoded-value cache: reads are rare on the write path, and memory must stay bounded.
    cache: false,
    // Writes issued in one event turn share one transaction (group commit).
    eventTurnBatching: true,
  });
  const databases = {
    env,
    log: env.openDB<Buffer, number>({ name: 'log', encoding: 'binary' }),
    transfers: env.openDB<Buffer, string>({ name: 'transfers', encoding: 'binary' }),
    runs: env.openDB<Buffer, string>({ name: 'runs', encoding: 'binary' }),
    scatteredRuns: env.openDB<Buffer, [number, number]>({
      name: 'scatteredRuns',
      encoding: 'binary',
    }),
    sagas: env.openDB<string, string>({ name: 'sagas', encoding: 'string' }),
    sagaRuns: env.openDB<Buffer, string>({ name: 'sagaRuns', encoding: 'binary' }),
    history: env.openDB<Buffer, HistoryKey>({ name: 'history', encoding: 'binary' }),
    meta: env.openDB<number, string>({ name: 'meta', encoding: 'msgpack' }),
    // Versions on: the fence's commits are conditional on the entry's version (the fence token).
    writer: env.openDB<WriterRecord, string>({
      name: 'writer',
      encoding: 'msgpack',
      useVersions: true,
    }),
  };
  const rawViews = new Map<string, Database<Buffer, Buffer>>();
  for (const name of shardDatabaseNames)
    rawViews.set(
      name,
      env.openDB<Buffer, Buffer>({ name, encoding: 'binary', keyEncoding: 'binary' }),
    );
  return { ...databases, rawViews };
}

/** The named databases of a shard's environment, as openShardDatabases opens them. */
export const shardDatabaseNames = [
  'log',
  'transfers',
  'runs',
  'scatteredRuns',
  'sagas',
  'sagaRuns',
  'history',
  'meta',
  'writer',
] as const;
