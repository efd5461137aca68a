// Row readers shared by the read model's queries (queries.ts): a row as the API's Account, Entry
// and Transfer, the postings select, the watermark, and the one-transaction snapshot.

import { accountFlags, type Metadata } from '@shardledger/ledger-core';
import type { Account, Transfer } from '../ledger-types.js';
import type { ReadModelDb } from './read-model-db.js';
import type { Watermark } from './projector.js';
import type { Entry } from './queries.js';

/** A row as better-sqlite3 returns it with safe integers (bigint). */
export type Row = Record<string, unknown>;

export function readWatermarks(db: ReadModelDb): Watermark[] {
  const rows = db
    .prepare('SELECT shard, last_sequence, last_timestamp FROM watermarks ORDER BY shard')
    .safeIntegers(true)
    .all() as Row[];
  return rows.map((row) => ({
    shard: Number(row['shard']),
    sequence: Number(row['last_sequence']),
    timestamp: row['last_timestamp'] as bigint,
  }));
}

function statusOf(flags: number): Account['status'] {
  if ((flags & accountFlags.closed) !== 0) return 'closed';
  return (flags & accountFlags.frozen) !== 0 ? 'frozen' : 'open';
}

export function accountOf(row: Row): Account {
  const flags = Number(row['flags']);
  const debitsPosted = BigInt(row['debits_posted'] as string);
  const creditsPosted = BigInt(row['credits_posted'] as string);
  const debitsPending = BigInt(row['debits_pending'] as string);
  return {
    id: row['id'] as string,
    currency: row['currency'] as string,
    scale: Number(row['scale']),
    debitsMustNotExceedCredits: (flags & accountFlags.debitsMustNotExceedCredits) !== 0,
    creditsMustNotExceedDebits: (flags & accountFlags.creditsMustNotExceedDebits) !== 0,
    history: (flags & accountFlags.history) !== 0,
    status: statusOf(flags),
    metadata: row['metadata'] === null ? null : (JSON.parse(row['metadata'] as string) as Metadata),
    timestamp: row['timestamp'] as bigint,
    debitsPosted,
    creditsPosted,
    debitsPending,
    creditsPending: BigInt(row['credits_pending'] as string),
    balance: creditsPosted - debitsPosted,
    available: creditsPosted - debitsPosted - debitsPending,
  };
}

/** A posting row of postingsOf's SQL: `amount` signed unless `debit_side` says which side of a
 * transfers row it is (1: debit, out of the account). */
export function entryOf(accountId: string, row: Row): Entry {
  const amount = BigInt(row['amount'] as string);
  const debitsPosted = BigInt(row['debits_posted'] as string);
  const creditsPosted = BigInt(row['credits_posted'] as string);
  return {
    accountId,
    transferId: row['transfer_id'] as string,
    kind: row['kind'] as Entry['kind'],
    amount: row['debit_side'] === 1n ? -amount : amount,
    balance: creditsPosted - debitsPosted,
    debitsPosted,
    creditsPosted,
    timestamp: row['timestamp'] as bigint,
    shard: Number(row['shard']),
    sequence: Number(row['sequence']),
    entryIndex: Number(row['entry_index']),
  };
}

/** An account's postings where `where` holds (over timestamp, sequence and entry_index; named
 * parameters, @account the account id), from the three places they are stored: the transfers
 * rows that post out of it (entry 0 of their event), those that post into it (entry 1), and the
 * entries rows of sagas. Each part reads an index in posting order. */
export function postingsSql(where: string): string {
  const kind = "CASE kind WHEN 'post' THEN 'post_pending' ELSE kind END AS kind";
  const rowPart = (side: 'debit' | 'credit', entryIndex: 0 | 1): string =>
    `SELECT * FROM (SELECT id AS transfer_id, ${kind}, amount, ${entryIndex === 0 ? 1 : 0} AS debit_side, ` +
    `${side}_debits_posted AS debits_posted, ${side}_credits_posted AS credits_posted, ` +
    `timestamp, shard, sequence, ${entryIndex} AS entry_index FROM transfers ` +
    `WHERE ${side}_account_id = @account AND ${side}_debits_posted IS NOT NULL)`;
  const entriesPart =
    'SELECT transfer_id, kind, amount, 0 AS debit_side, debits_posted, credits_posted, ' +
    'timestamp, shard, sequence, entry_index FROM entries WHERE account_id = @account';
  return [rowPart('debit', 0), rowPart('credit', 1), entriesPart]
    .map((part) => `SELECT * FROM (${part}) WHERE ${where}`)
    .join(' UNION ALL ');
}

export function transferOf(row: Row): Transfer {
  return {
    id: row['id'] as string,
    kind: row['kind'] as Transfer['kind'],
    debitAccountId: row['debit_account_id'] as string,
    creditAccountId: row['credit_account_id'] as string,
    amount: BigInt(row['amount'] as string),
    currency: row['currency'] as string,
    pending: row['pending'] === 1n,
    timeoutMs: Number(row['timeout_ms']),
    metadata: row['metadata'] === null ? null : (JSON.parse(row['metadata'] as string) as Metadata),
    pendingId: row['pending_id'] as string | null,
    state: row['state'] as Transfer['state'],
    postedAmount: row['posted_amount'] === null ? null : BigInt(row['posted_amount'] as string),
    timestamp: row['timestamp'] as bigint,
    crossShard: row['cross_shard'] === 1n,
  };
}

/** Reads inside one transaction, so that rows and watermark are one snapshot. */
export function snapshot<T>(
  db: ReadModelDb,
  read: () => T,
): T & { watermark: readonly Watermark[] } {
  return db.transaction(() => ({ ...read(), watermark: readWatermarks(db) }))();
}
