// The read model's SQLite file: schema and how it is opened. Every pragma that matters is written
// out here with the reason for its value.
//
// Money is TEXT of decimal digits (a u128 does not fit SQLite's 64-bit INTEGER); sums are done in
// bigint in JS. Timestamps are INTEGER nanoseconds since the epoch (fit in 63 bits until 2262).
// Tables are STRICT so that a wrong type is an error, not a silent conversion. A dump lists each
// table ordered by its key, so it is the same bytes for two databases with the same content
// whatever order their rows were written in (the rebuild test compares exactly that). Tables are
// WITHOUT ROWID (rows stored in key order), except transfers: see its comment.

import { LedgerError } from '@shardledger/ledger-core';
import { openSqlite, type SqliteDatabase } from '../sqlite-driver.js';

/** A read-model file's SQLite connection. */
export type ReadModelDb = SqliteDatabase;

/** Bumped on any change of the schema or of what its rows hold (3: a cross-shard transfer is
 * dated by when both sides hold it; 4: a transfers row carries its postings; 5: transfers rows
 * are stored in the order they were written, with a unique index on their id); an older file is
 * projected again, a newer one refused. */
export const readModelSchemaVersion = 5;
/** SQLite `application_id` of a read-model file ("SLRM"), so that a stray file is not mistaken. */
const applicationId = 0x534c524d;

/** The tables whose rows are the projection (what `rebuild` must reproduce exactly), in the order
 * a dump lists them, each with its primary key for ORDER BY. */
export const projectionTables = [
  { name: 'watermarks', orderBy: 'shard' },
  { name: 'accounts', orderBy: 'id' },
  { name: 'transfers', orderBy: 'id' },
  { name: 'transfer_metadata', orderBy: 'key, value, transfer_id' },
  { name: 'saga_legs', orderBy: 'transfer_id, saga_id, side' },
  { name: 'entries', orderBy: 'account_id, timestamp, sequence, entry_index' },
  { name: 'pending_entries', orderBy: 'account_id, sequence' },
  { name: 'currency_totals', orderBy: 'currency' },
] as const;

const schema = `
-- Per shard: the last event projected. Written in the same transaction as the rows that event
-- produced: this is what makes the projection exactly-once.
CREATE TABLE watermarks (
  shard INTEGER PRIMARY KEY,
  last_sequence INTEGER NOT NULL,
  last_timestamp INTEGER NOT NULL
) STRICT;

-- The ledger this file projects (its hash, shard count and ledgerId): refuse another ledger.
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT, WITHOUT ROWID;

-- Accounts with their four counters after the last projected event (same as lookupAccounts).
-- flags: accountFlags, status flags (frozen, closed) included.
CREATE TABLE accounts (
  id TEXT PRIMARY KEY,
  currency TEXT NOT NULL,
  scale INTEGER NOT NULL,
  flags INTEGER NOT NULL,
  metadata TEXT,
  timestamp INTEGER NOT NULL,
  shard INTEGER NOT NULL,
  sequence INTEGER NOT NULL,
  debits_posted TEXT NOT NULL,
  credits_posted TEXT NOT NULL,
  debits_pending TEXT NOT NULL,
  credits_pending TEXT NOT NULL,
  balance TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- One row per transfer id (a cross-shard transfer too). kind: transfer | post | void.
-- state: posted | pending | voided | expired, or reserved | released for a cross-shard saga in
-- flight or rolled back. saga_id is null for transfers applied on one shard in one event.
-- A row whose event posted its amount (a transfer that posts at once, the post of a hold) also
-- carries both accounts' posted counters right after it: it is the statement entry of each
-- account (debit side first), so a posting costs one row and two small index entries, not a
-- row per account. The four columns are null for a row that posted nothing (a hold, a void, a
-- saga's row: a saga's postings are entries rows, one per side, by the shard that posted it).
-- Rows are stored in the order they are written (a rowid table), with a unique index on id:
-- transfer ids are mostly random (UUIDv4), and keyed by id (WITHOUT ROWID) each insert of a
-- 21-column row landed in a random page of the table; here it appends, and only the narrow id
-- index takes the random insert (catch-up about 1.2x faster on 200,000 random-id transfers, 1.5x
-- to 1.75x for the same inserts alone). The implicit rowid is not part of the projection:
-- SELECT * leaves it out, and dumps are ordered by id.
CREATE TABLE transfers (
  id TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  debit_account_id TEXT NOT NULL,
  credit_account_id TEXT NOT NULL,
  amount TEXT NOT NULL,
  currency TEXT NOT NULL,
  pending INTEGER NOT NULL,
  timeout_ms INTEGER NOT NULL,
  metadata TEXT,
  pending_id TEXT,
  state TEXT NOT NULL,
  posted_amount TEXT,
  timestamp INTEGER NOT NULL,
  shard INTEGER NOT NULL,
  sequence INTEGER NOT NULL,
  saga_id TEXT,
  cross_shard INTEGER NOT NULL,
  debit_debits_posted TEXT,
  debit_credits_posted TEXT,
  credit_debits_posted TEXT,
  credit_credits_posted TEXT
) STRICT;
-- Each account's postings carried by transfers rows, in posting order (timestamps rise with the
-- sequence numbers of the account's shard). Partial: rows that posted nothing stay out.
CREATE INDEX transfers_by_debit ON transfers (debit_account_id, timestamp, sequence)
  WHERE debit_debits_posted IS NOT NULL;
CREATE INDEX transfers_by_credit ON transfers (credit_account_id, timestamp, sequence)
  WHERE credit_debits_posted IS NOT NULL;

-- Metadata of each transfer row, one row per key: "every transfer of payment order X".
CREATE TABLE transfer_metadata (
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  transfer_id TEXT NOT NULL,
  PRIMARY KEY (key, value, transfer_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX transfer_metadata_by_transfer ON transfer_metadata (transfer_id);

-- Every side of every saga, as each shard recorded it: the transfers row of a saga is computed
-- from these, so that it does not depend on the order in which shards were projected.
CREATE TABLE saga_legs (
  transfer_id TEXT NOT NULL,
  saga_id TEXT NOT NULL,
  side TEXT NOT NULL,
  shard INTEGER NOT NULL,
  sequence INTEGER NOT NULL,
  timestamp INTEGER NOT NULL,
  state TEXT NOT NULL,
  spec TEXT NOT NULL,
  PRIMARY KEY (transfer_id, saga_id, side)
) STRICT, WITHOUT ROWID;

-- The postings that no transfers row carries: one row per account per posting of a saga (each
-- side is posted by its own shard), and those of a transfer whose id another row holds. amount
-- is signed (credit positive); debits_posted and credits_posted are the account's after it, so a
-- statement's totals are differences of two postings. kind: transfer | post_pending. Clustered
-- by account in posting order: an account lives on one shard, so (timestamp, sequence,
-- entry_index) orders its postings, and the key also makes a doubled event a constraint error.
CREATE TABLE entries (
  account_id TEXT NOT NULL,
  timestamp INTEGER NOT NULL,
  sequence INTEGER NOT NULL,
  entry_index INTEGER NOT NULL,
  shard INTEGER NOT NULL,
  transfer_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  amount TEXT NOT NULL,
  debits_posted TEXT NOT NULL,
  credits_posted TEXT NOT NULL,
  PRIMARY KEY (account_id, timestamp, sequence, entry_index)
) STRICT, WITHOUT ROWID;

-- One row per account per event that changed its pending counters: the two counters after that
-- event (balanceAsOf's pending side, as entries are its posted side). An account lives on one
-- shard, so its sequence numbers order its rows, and its timestamps rise with them.
CREATE TABLE pending_entries (
  account_id TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  timestamp INTEGER NOT NULL,
  debits_pending TEXT NOT NULL,
  credits_pending TEXT NOT NULL,
  PRIMARY KEY (account_id, sequence)
) STRICT, WITHOUT ROWID;

-- Sums of the accounts' counters per currency.
CREATE TABLE currency_totals (
  currency TEXT PRIMARY KEY,
  debits_posted TEXT NOT NULL,
  credits_posted TEXT NOT NULL,
  debits_pending TEXT NOT NULL,
  credits_pending TEXT NOT NULL
) STRICT, WITHOUT ROWID;
`;

export interface OpenReadModelDbOptions {
  readonly path: string;
  /** Queries only (the CLI reading a file that a running application projects into). */
  readonly readonly: boolean;
  /** The connection that projects (the worker's): it gets the large page cache. */
  readonly projects?: boolean;
}

/** Page cache of a connection that queries: the pages a statement or a lookup reads stay hot. */
const queryCacheSizeMiB = 64;
/** Page cache of the projector's connection. Every posting lands on a random leaf of the
 * transfers' id key and of two account indexes, so once the file outgrows the cache nearly every
 * insert reads a page back from the OS: 1,200,000 transfers (a 349 MB file) took 76 s of CPU with
 * 64 MiB and 42 s with 512 MiB here. SQLite allocates cache pages as it uses them, so a small
 * ledger's projector stays small. */
export const projectorCacheSizeMiB = 512;

/** Opens (creating when missing, unless read-only) a read-model file. */
export function openReadModelDb(options: OpenReadModelDbOptions): ReadModelDb {
  const db = openSqlite(options.path, {
    readonly: options.readonly,
    // A read-only open of a missing file is a mistake, not a request for an empty model.
    fileMustExist: options.readonly,
    // How long a statement waits for another connection's lock (the CLI reading while an
    // application projects) before failing with SQLITE_BUSY.
    timeout: 5_000,
  });
  try {
    // Write-ahead log: readers (CLI, queries) never block the projector and vice versa, and a
    // commit is one sequential append. Persistent in the file, so read-only opens inherit it.
    if (!options.readonly) db.pragma('journal_mode = WAL');
    // NORMAL: in WAL mode a commit is still atomic and survives a crash of the process (SIGKILL
    // included: the WAL is in the OS's page cache); only a power loss or OS crash can drop the last
    // commits, and since each shard's watermark is in the same transaction as its rows they drop
    // together and are projected again from the ledger's log: exactly-once holds. What NORMAL gives
    // up is the durability of what waitFor saw across a power loss, which a rebuildable read model
    // does not need; in return a commit costs no fsync (the WAL is synced at checkpoints).
    db.pragma('synchronous = NORMAL');
    // We keep no foreign keys (rows of a saga may arrive before the account's shard is projected).
    db.pragma('foreign_keys = OFF');
    // Temp b-trees for ORDER BY and indexes in memory: the projection never needs large ones.
    db.pragma('temp_store = MEMORY');
    // Page cache, negative = KiB (see the two constants above).
    const cacheSizeMiB = options.projects === true ? projectorCacheSizeMiB : queryCacheSizeMiB;
    db.pragma(`cache_size = -${cacheSizeMiB * 1024}`);
    // Checkpoint the WAL into the main file every 10,000 pages (40 MiB; SQLite's default is 1,000):
    // a batch of postings to random accounts dirties pages all over the entries index, and each
    // checkpoint copies every page changed since the last one once, however often it changed, so
    // rarer checkpoints write less. Truncate the WAL back to 64 MiB after a checkpoint so it
    // cannot grow without bound.
    if (!options.readonly) db.pragma('wal_autocheckpoint = 10000');
    if (!options.readonly) db.pragma('journal_size_limit = 67108864');
    // No triggers or views of ours use functions; refuse them from a tampered schema.
    db.pragma('trusted_schema = OFF');
    if (!options.readonly) createSchema(db);
    checkSchema(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function createSchema(db: ReadModelDb): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version !== 0) return;
  const tables = db
    .prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'")
    .get() as { n: number };
  if (tables.n !== 0) throw new LedgerError('INVALID_ARGUMENT', { path: 'not a read-model file' });
  db.transaction(() => {
    db.exec(schema);
    db.pragma(`application_id = ${applicationId}`);
    db.pragma(`user_version = ${readModelSchemaVersion}`);
  })();
}

function checkSchema(db: ReadModelDb): void {
  const id = db.pragma('application_id', { simple: true }) as number;
  const version = db.pragma('user_version', { simple: true }) as number;
  if (id !== applicationId)
    throw new LedgerError('INVALID_ARGUMENT', { path: 'not a read-model file' });
  if (version !== readModelSchemaVersion) {
    throw new LedgerError('INVALID_ARGUMENT', {
      schemaVersion: version,
      expected: readModelSchemaVersion,
    });
  }
}

/** Every projected row, table by table in primary-key order, as one string per table: equal
 * strings mean equal content (the rebuild and crash tests compare these). */
export function dumpProjection(db: ReadModelDb): Record<string, string> {
  const dump: Record<string, string> = {};
  const read = db.transaction(() => {
    for (const table of projectionTables) {
      const rows = db
        .prepare(`SELECT * FROM ${table.name} ORDER BY ${table.orderBy}`)
        .safeIntegers(true)
        .raw(true)
        .all();
      dump[table.name] = rows
        .map((row) => (row as unknown[]).map(String).join('\u001f'))
        .join('\n');
    }
  });
  read();
  return dump;
}
