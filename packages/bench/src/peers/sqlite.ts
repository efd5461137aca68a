// Peer: SQLite through better-sqlite3, WAL, synchronous=FULL (strict), one transaction per batch
// of 8,190. Per transfer: insert the transfer row (unique id), then check-and-update both balances.
//
// What is stored, honestly: u128 does not fit SQLite's signed 64-bit INTEGER, so each balance is
// two 63-bit limbs, value = hi * 2^63 + lo (0 <= lo < 2^63), covering 0 .. 2^126-1 (a transfer that
// would pass that returns OVERFLOW). Amounts are stored the same way. The fast path adds to `lo`
// in SQL when it cannot carry and the account has no balance limit; anything else (carry, limit
// check, amount >= 2^63) takes a checked slow path in bigint. Accounts are keyed by an INTEGER
// index (SQLite's fastest key) with the text id in a UNIQUE column: the best case for SQLite.

import Database from 'better-sqlite3';
import { join } from 'node:path';
import { measure } from '../measure.js';
import { assertConserved, type Peer, type RunOptions, type RunResult } from './peer.js';

const limbBits = 63n;
const limbBase = 1n << limbBits;
const loMax = limbBase - 1n;
const balanceMax = (1n << 126n) - 1n;
const flagDebitsMustNotExceedCredits = 1;
/** SQLite's rate is flat after a second or two; its window is capped so `npm run bench` stays
 * under two minutes with the ledger's full window. */
export const sqliteDurationMsMax = 5000;
const warmupMsMax = 1000;

const schema = `
  CREATE TABLE accounts (
    idx INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    currency TEXT NOT NULL,
    flags INTEGER NOT NULL,
    debits_hi INTEGER NOT NULL, debits_lo INTEGER NOT NULL,
    credits_hi INTEGER NOT NULL, credits_lo INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE transfers (
    id TEXT PRIMARY KEY,
    debit_idx INTEGER NOT NULL,
    credit_idx INTEGER NOT NULL,
    amount_hi INTEGER NOT NULL, amount_lo INTEGER NOT NULL,
    currency TEXT NOT NULL
  ) STRICT, WITHOUT ROWID;`;

export interface SqliteBalances {
  readonly debitsTotal: bigint;
  readonly creditsTotal: bigint;
}

/** Opens the peer database with every option written out. */
function openSqlite(options: {
  file: string;
  durability: 'strict' | 'relaxed';
}): Database.Database {
  const db = new Database(options.file, {
    readonly: false, // we write
    fileMustExist: false, // a fresh file per run
    timeout: 5000, // busy timeout ms; only one connection, so never hit
  });
  db.pragma('journal_mode = WAL'); // appends to a log; what fast SQLite deployments use
  // FULL fsyncs the WAL on every commit (durable like Shardledger's strict); NORMAL only at
  // checkpoints.
  db.pragma(`synchronous = ${options.durability === 'strict' ? 'FULL' : 'NORMAL'}`);
  db.pragma('cache_size = -262144'); // 256 MiB page cache: the working set stays in memory
  db.pragma('temp_store = MEMORY'); // no temp files
  db.pragma('wal_autocheckpoint = 10000'); // pages; fewer, larger checkpoints under heavy writes
  db.pragma('foreign_keys = OFF'); // indexes are checked by the code; FK checks would cost per row
  db.exec(schema);
  return db;
}

export interface SqliteBatch {
  readonly ids: readonly string[];
  readonly debit: Uint32Array;
  readonly credit: Uint32Array;
  readonly amount: Uint32Array;
}

export interface SqliteLedger {
  createAccounts(ids: readonly string[], currency: string): void;
  /** One transaction per batch; returns the number of transfers applied and their amount. */
  applyBatch(batch: SqliteBatch, currency: string): { applied: number; amount: number };
  balances(): SqliteBalances;
}

function createSqliteLedger(db: Database.Database): SqliteLedger {
  const createAccounts = db.transaction((ids: readonly string[], currency: string) => {
    const insert = db.prepare(
      'INSERT INTO accounts (idx, id, currency, flags, debits_hi, debits_lo, credits_hi, credits_lo) VALUES (?, ?, ?, 0, 0, 0, 0, 0)',
    );
    ids.forEach((id, idx) => insert.run(idx, id, currency));
  });
  const applyBatch = batchApplier(db);
  return {
    createAccounts: (ids, currency) => createAccounts(ids, currency),
    applyBatch: (batch, currency) => applyBatch(batch, currency),
    balances: balancesReader(db),
  };
}

/** An account's balance row, both balances as two 64-bit limbs. */
interface Row {
  flags: bigint;
  debits_hi: bigint;
  debits_lo: bigint;
  credits_hi: bigint;
  credits_lo: bigint;
}

/** The slow paths of a balance update: read the row, do the whole check in bigint, write both
 * limbs. Each returns a code, or null when applied. */
function slowWriters(db: Database.Database): {
  debitSlow(idx: number, amount: bigint): string | null;
  creditSlow(idx: number, amount: bigint): string | null;
} {
  const selectAccount = db
    .prepare(
      'SELECT flags, debits_hi, debits_lo, credits_hi, credits_lo FROM accounts WHERE idx = ?',
    )
    .safeIntegers(true);
  const writeDebits = db.prepare('UPDATE accounts SET debits_hi = ?, debits_lo = ? WHERE idx = ?');
  const writeCredits = db.prepare(
    'UPDATE accounts SET credits_hi = ?, credits_lo = ? WHERE idx = ?',
  );
  const readRow = (idx: number): Row => {
    const row = selectAccount.get(idx) as Row | undefined;
    if (row === undefined) throw new Error(`ACCOUNT_NOT_FOUND ${idx}`);
    return row;
  };
  const debitSlow = (idx: number, amount: bigint): string | null => {
    const row = readRow(idx);
    const debits = row.debits_hi * limbBase + row.debits_lo + amount;
    const credits = row.credits_hi * limbBase + row.credits_lo;
    if ((Number(row.flags) & flagDebitsMustNotExceedCredits) !== 0 && debits > credits)
      return 'EXCEEDS_CREDITS';
    if (debits > balanceMax) return 'OVERFLOW';
    writeDebits.run(debits >> limbBits, debits & loMax, idx);
    return null;
  };
  const creditSlow = (idx: number, amount: bigint): string | null => {
    const row = readRow(idx);
    const credits = row.credits_hi * limbBase + row.credits_lo + amount;
    if (credits > balanceMax) return 'OVERFLOW';
    writeCredits.run(credits >> limbBits, credits & loMax, idx);
    return null;
  };
  return { debitSlow, creditSlow };
}

/** One transaction per batch: each transfer inserted (skipped when its id exists), then the
 * debit and the credit on the low limb when no carry and no check is due, else the slow path. */
function batchApplier(
  db: Database.Database,
): (batch: SqliteBatch, currency: string) => { applied: number; amount: number } {
  const insertTransfer = db.prepare(
    'INSERT OR IGNORE INTO transfers (id, debit_idx, credit_idx, amount_hi, amount_lo, currency) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const deleteTransfer = db.prepare('DELETE FROM transfers WHERE id = ?');
  const debitFast = db.prepare(
    `UPDATE accounts SET debits_lo = debits_lo + ? WHERE idx = ? AND flags = 0 AND debits_lo <= ${loMax} - ?`,
  );
  const creditFast = db.prepare(
    `UPDATE accounts SET credits_lo = credits_lo + ? WHERE idx = ? AND credits_lo <= ${loMax} - ?`,
  );
  const { debitSlow, creditSlow } = slowWriters(db);
  return db.transaction(
    (batch: SqliteBatch, currency: string): { applied: number; amount: number } => {
      let applied = 0;
      let total = 0;
      for (let item = 0; item < batch.ids.length; item++) {
        const id = batch.ids[item] as string;
        const debitIdx = batch.debit[item] as number;
        const creditIdx = batch.credit[item] as number;
        const amount = batch.amount[item] as number; // 1..1000 here: hi limb is 0
        if (insertTransfer.run(id, debitIdx, creditIdx, 0, amount, currency).changes === 0)
          continue; // exists
        if (
          debitFast.run(amount, debitIdx, amount).changes === 0 &&
          debitSlow(debitIdx, BigInt(amount)) !== null
        ) {
          deleteTransfer.run(id);
          continue;
        }
        if (
          creditFast.run(amount, creditIdx, amount).changes === 0 &&
          creditSlow(creditIdx, BigInt(amount)) !== null
        ) {
          // Unreachable with amounts <= 1000.
          throw new Error('credit overflow in the bench workload');
        }
        applied++;
        total += amount;
      }
      return { applied, amount: total };
    },
  );
}

/** Debits and credits summed over all accounts, in bigint. */
function balancesReader(db: Database.Database): () => SqliteBalances {
  const totals = db
    .prepare('SELECT debits_hi, debits_lo, credits_hi, credits_lo FROM accounts')
    .safeIntegers(true);
  return () => {
    let debitsTotal = 0n;
    let creditsTotal = 0n;
    for (const row of totals.iterate() as Iterable<Row>) {
      debitsTotal += row.debits_hi * limbBase + row.debits_lo;
      creditsTotal += row.credits_hi * limbBase + row.credits_lo;
    }
    return { debitsTotal, creditsTotal };
  };
}

export const sqlitePeer: Peer = {
  name: 'sqlite',
  async run(options: RunOptions): Promise<RunResult> {
    const { workload } = options;
    const db = openSqlite({
      file: join(options.dir, 'peer.sqlite'),
      durability: options.durability,
    });
    try {
      const ledger = createSqliteLedger(db);
      ledger.createAccounts(workload.accountIds, workload.currency);
      let appliedCount = 0;
      let appliedAmount = 0n;
      const measurement = await measure({
        label: 'sqlite',
        warmupMs: Math.min(options.warmupMs, warmupMsMax),
        durationMs: Math.min(options.durationMs, sqliteDurationMsMax),
        unitCount: workload.batchCount,
        cycle: false, // transfer ids are unique: never resend a batch
        concurrency: 1, // better-sqlite3 is synchronous; one writer is SQLite's model anyway
        unitSize: (unit) => workload.batch(unit).ids.length,
        step(unit) {
          const result = ledger.applyBatch(workload.batch(unit), workload.currency);
          appliedCount += result.applied;
          appliedAmount += BigInt(result.amount);
        },
        progress: options.progress,
      });
      const checks = { appliedCount, ...ledger.balances() };
      assertConserved('sqlite', checks, appliedAmount);
      const method = `better-sqlite3, WAL, synchronous=${options.durability === 'strict' ? 'FULL' : 'NORMAL'}, one transaction per batch of ${workload.batchSize}, window capped at ${sqliteDurationMsMax / 1000} s`;
      return { name: 'sqlite', method, checks, ...measurement };
    } finally {
      db.close();
    }
  },
};

/** The reference the speed floors are set against (a plain batched insert loop): the same batches
 * inserted into the same `transfers` table, one transaction per batch, and nothing else (no
 * balances, no limits, no account lookups). It is not a ledger; it is what SQLite's write path
 * alone does on this machine, measured in the same run so that a figure of ours can be read as a
 * ratio of it on a noisy machine. */
export const sqliteInsertPeer: Peer = {
  name: 'sqlite-insert',
  async run(options: RunOptions): Promise<RunResult> {
    const { workload } = options;
    const db = openSqlite({
      file: join(options.dir, 'peer-insert.sqlite'),
      durability: options.durability,
    });
    try {
      const insert = db.prepare(
        'INSERT INTO transfers (id, debit_idx, credit_idx, amount_hi, amount_lo, currency) VALUES (?, ?, ?, 0, ?, ?)',
      );
      const count = db.prepare('SELECT count(*) AS n FROM transfers').pluck();
      const insertBatch = db.transaction((batch: SqliteBatch, currency: string): void => {
        for (let item = 0; item < batch.ids.length; item++) {
          insert.run(
            batch.ids[item] as string,
            batch.debit[item] as number,
            batch.credit[item] as number,
            batch.amount[item] as number,
            currency,
          );
        }
      });
      let inserted = 0;
      const measurement = await measure({
        label: 'sqlite-insert',
        warmupMs: Math.min(options.warmupMs, warmupMsMax),
        durationMs: Math.min(options.durationMs, sqliteDurationMsMax),
        unitCount: workload.batchCount,
        cycle: false, // the ids are the table's primary key: never resend a batch
        concurrency: 1,
        unitSize: (unit) => workload.batch(unit).ids.length,
        step(unit) {
          const batch = workload.batch(unit);
          insertBatch(batch, workload.currency);
          inserted += batch.ids.length;
        },
        progress: options.progress,
      });
      const rows = count.get() as number;
      if (rows !== inserted)
        throw new Error(`sqlite-insert: ${rows} rows after inserting ${inserted}`);
      const method = `better-sqlite3, WAL, synchronous=${options.durability === 'strict' ? 'FULL' : 'NORMAL'}, one transaction per batch of ${workload.batchSize}, INSERT of each transfer and nothing else (no balances, no checks: the reference the speed floors are set against, not a ledger), window capped at ${sqliteDurationMsMax / 1000} s`;
      return { name: 'sqlite-insert', method, checks: null, ...measurement };
    } finally {
      db.close();
    }
  },
};
