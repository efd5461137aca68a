// The projector's prepared SQL statements, over the tables of read-model-db.ts, and the column
// values its rows share. Statements are prepared once per connection; the projector runs them for
// every event it applies.

import type { SqliteStatement } from '../sqlite-driver.js';
import type { Metadata } from '@shardledger/ledger-core';
import type { ReadModelDb } from './read-model-db.js';

/** Where an event sits in the logs: the shard, sequence and timestamp columns of its rows. */
export interface EventPosition {
  readonly shard: number;
  readonly sequence: number;
  readonly timestamp: bigint;
}

/** The metadata column of an account or transfer row: JSON, or null for none. */
export function metadataText(metadata: Metadata | null): string | null {
  return metadata === null ? null : JSON.stringify(metadata);
}

const sql = {
  watermarks: 'SELECT shard, last_sequence, last_timestamp FROM watermarks ORDER BY shard',
  setWatermark:
    'INSERT INTO watermarks (shard, last_sequence, last_timestamp) VALUES (?, ?, ?) ' +
    'ON CONFLICT (shard) DO UPDATE SET last_sequence = excluded.last_sequence, ' +
    'last_timestamp = excluded.last_timestamp',
  account: 'SELECT * FROM accounts WHERE id = ?',
  insertAccount:
    'INSERT INTO accounts (id, currency, scale, flags, metadata, timestamp, shard, sequence, ' +
    'debits_posted, credits_posted, debits_pending, credits_pending, balance) ' +
    'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  updateAccount:
    'UPDATE accounts SET debits_posted = ?, credits_posted = ?, debits_pending = ?, ' +
    'credits_pending = ?, balance = ?, flags = ? WHERE id = ?',
  totals: 'SELECT * FROM currency_totals WHERE currency = ?',
  upsertTotals:
    'INSERT INTO currency_totals (currency, debits_posted, credits_posted, debits_pending, ' +
    'credits_pending) VALUES (?, ?, ?, ?, ?) ' +
    'ON CONFLICT (currency) DO UPDATE SET debits_posted = excluded.debits_posted, ' +
    'credits_posted = excluded.credits_posted, ' +
    'debits_pending = excluded.debits_pending, credits_pending = excluded.credits_pending',
  insertEntry:
    'INSERT INTO entries (account_id, timestamp, sequence, entry_index, shard, transfer_id, ' +
    'kind, amount, debits_posted, credits_posted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  // An event may move one account's pending counters twice: its last move is what stays.
  putPendingEntry:
    'INSERT OR REPLACE INTO pending_entries (account_id, sequence, timestamp, debits_pending, ' +
    'credits_pending) VALUES (?, ?, ?, ?, ?)',
  transferOrigin: 'SELECT saga_id, shard, sequence FROM transfers WHERE id = ?',
  insertTransfer:
    'INSERT INTO transfers (id, kind, debit_account_id, credit_account_id, amount, currency, ' +
    'pending, timeout_ms, metadata, pending_id, state, posted_amount, timestamp, shard, ' +
    'sequence, saga_id, cross_shard, debit_debits_posted, debit_credits_posted, ' +
    'credit_debits_posted, credit_credits_posted) ' +
    'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ' +
    'ON CONFLICT (id) DO NOTHING',
  // The postings a transfers row carries (null counters: none), moved to entries when the row
  // gives way to another one.
  rowPostings:
    'SELECT kind, debit_account_id, credit_account_id, amount, timestamp, shard, sequence, ' +
    'debit_debits_posted, debit_credits_posted, credit_debits_posted, credit_credits_posted ' +
    'FROM transfers WHERE id = ?',
  deleteTransfer: 'DELETE FROM transfers WHERE id = ?',
  // The other side of a cross-shard hold's post or void (putHoldResolution): SET reads the row
  // as it was, so the sequence is compared with the shard before that changes.
  followResolution:
    'UPDATE transfers SET timestamp = max(timestamp, ?), cross_shard = 1, ' +
    'sequence = CASE WHEN ? < shard THEN ? ELSE sequence END, shard = min(shard, ?) ' +
    'WHERE id = ? AND kind = ? AND pending_id = ? AND saga_id IS NULL',
  resolveHold:
    'UPDATE transfers SET state = ?, posted_amount = ? ' +
    'WHERE id = ? AND shard = ? AND saga_id IS NULL AND kind = ?',
  insertMetadata: 'INSERT INTO transfer_metadata (key, value, transfer_id) VALUES (?, ?, ?)',
  deleteMetadata: 'DELETE FROM transfer_metadata WHERE transfer_id = ?',
  insertLeg:
    'INSERT INTO saga_legs (transfer_id, saga_id, side, shard, sequence, timestamp, state, ' +
    'spec) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  setLegState:
    'UPDATE saga_legs SET state = ?, timestamp = coalesce(?, timestamp) ' +
    'WHERE transfer_id = ? AND saga_id = ? AND side = ?',
  legsOf:
    'SELECT saga_id, side, shard, sequence, timestamp, state, spec FROM saga_legs ' +
    'WHERE transfer_id = ? ORDER BY saga_id, side',
} as const;

type StatementName = keyof typeof sql;

/** Statements that read integer columns (sequence numbers, timestamps) as bigint. */
const bigintReads: readonly StatementName[] = [
  'watermarks',
  'account',
  'transferOrigin',
  'legsOf',
  'rowPostings',
];

export type ProjectorStatements = {
  readonly [Name in StatementName]: SqliteStatement;
};

export function prepareProjectorStatements(db: ReadModelDb): ProjectorStatements {
  const statements = {} as Record<StatementName, SqliteStatement>;
  for (const name of Object.keys(sql) as StatementName[]) statements[name] = db.prepare(sql[name]);
  for (const name of bigintReads) statements[name].safeIntegers(true);
  return statements;
}
