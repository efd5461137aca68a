// Queries over the read model. Each runs in one read transaction and returns the watermark (per
// shard, the last projected sequence) that its rows reflect: the result is exactly the write side
// as of those sequence numbers. Amounts come back as bigint; sums are done in bigint.

import { LedgerError, limits, type Metadata, type TransferRecord } from '@shardledger/ledger-core';
import type { ReadModelDb } from './read-model-db.js';
import type { Watermark } from './projector.js';

/** Timestamps are ns since the epoch; the largest one a statement range can name. */
const TIMESTAMP_MAX = (1n << 63n) - 1n;

export interface ReadModelAccount {
  readonly id: string;
  readonly currency: string;
  readonly flags: number;
  readonly metadata: Metadata | null;
  readonly timestamp: bigint;
  readonly shard: number;
  readonly debitsPosted: bigint;
  readonly creditsPosted: bigint;
  readonly debitsPending: bigint;
  readonly creditsPending: bigint;
  readonly balance: bigint;
}

export interface Entry {
  readonly accountId: string;
  readonly transferId: string;
  readonly kind: 'transfer' | 'post_pending';
  /** Signed: credits positive, debits negative. */
  readonly amount: bigint;
  /** The account's balance (creditsPosted - debitsPosted) right after this entry. */
  readonly balance: bigint;
  readonly debitsPosted: bigint;
  readonly creditsPosted: bigint;
  readonly timestamp: bigint;
  readonly shard: number;
  readonly sequence: number;
  readonly entryIndex: number;
}

export interface PostedBalance {
  readonly balance: bigint;
  readonly debitsPosted: bigint;
  readonly creditsPosted: bigint;
}

export interface Statement {
  readonly accountId: string;
  /** Null when the account is not (yet) in the read model; see `watermark`. */
  readonly account: ReadModelAccount | null;
  /** Inclusive start and exclusive end, ns. */
  readonly from: bigint;
  readonly to: bigint;
  /** Before the first entry at or after `from`, and after the last entry before `to`. */
  readonly opening: PostedBalance;
  readonly closing: PostedBalance;
  /** Sums of the whole range (not only this page). */
  readonly debits: bigint;
  readonly credits: bigint;
  readonly entries: readonly Entry[];
  /** Pass as `cursor` for the next page; null on the last page. */
  readonly nextCursor: string | null;
  readonly watermark: readonly Watermark[];
}

/** A transfer as the read model holds it: the write side's record plus where it was projected
 * from. */
export interface ReadModelTransfer extends TransferRecord {
  readonly shard: number;
  readonly sequence: number;
  readonly crossShard: boolean;
}

export interface CurrencyTotals {
  readonly currency: string;
  readonly debitsPosted: bigint;
  readonly creditsPosted: bigint;
  readonly debitsPending: bigint;
  readonly creditsPending: bigint;
}

type Row = Record<string, unknown>;

const ZERO: PostedBalance = Object.freeze({ balance: 0n, debitsPosted: 0n, creditsPosted: 0n });

function readWatermarks(db: ReadModelDb): Watermark[] {
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

function accountOf(row: Row): ReadModelAccount {
  return {
    id: row['id'] as string,
    currency: row['currency'] as string,
    flags: Number(row['flags']),
    metadata: row['metadata'] === null ? null : (JSON.parse(row['metadata'] as string) as Metadata),
    timestamp: row['timestamp'] as bigint,
    shard: Number(row['shard']),
    debitsPosted: BigInt(row['debits_posted'] as string),
    creditsPosted: BigInt(row['credits_posted'] as string),
    debitsPending: BigInt(row['debits_pending'] as string),
    creditsPending: BigInt(row['credits_pending'] as string),
    balance: BigInt(row['balance'] as string),
  };
}

function entryOf(row: Row): Entry {
  return {
    accountId: row['account_id'] as string,
    transferId: row['transfer_id'] as string,
    kind: row['kind'] as Entry['kind'],
    amount: BigInt(row['amount'] as string),
    balance: BigInt(row['balance'] as string),
    debitsPosted: BigInt(row['debits_posted'] as string),
    creditsPosted: BigInt(row['credits_posted'] as string),
    timestamp: row['timestamp'] as bigint,
    shard: Number(row['shard']),
    sequence: Number(row['sequence']),
    entryIndex: Number(row['entry_index']),
  };
}

function transferOf(row: Row): ReadModelTransfer {
  return {
    id: row['id'] as string,
    kind: row['kind'] as ReadModelTransfer['kind'],
    debitAccountId: row['debit_account_id'] as string,
    creditAccountId: row['credit_account_id'] as string,
    amount: BigInt(row['amount'] as string),
    currency: row['currency'] as string,
    pending: row['pending'] === 1n,
    timeoutMs: Number(row['timeout_ms']),
    metadata: row['metadata'] === null ? null : (JSON.parse(row['metadata'] as string) as Metadata),
    pendingId: row['pending_id'] as string | null,
    state: row['state'] as ReadModelTransfer['state'],
    postedAmount: row['posted_amount'] === null ? null : BigInt(row['posted_amount'] as string),
    timestamp: row['timestamp'] as bigint,
    shard: Number(row['shard']),
    sequence: Number(row['sequence']),
    sagaId: row['saga_id'] as string | null,
    crossShard: row['cross_shard'] === 1n,
  };
}

function checkLimit(limit: number | undefined): number {
  const value = limit ?? 1_000;
  if (!Number.isSafeInteger(value) || value < 1 || value > limits.pageSizeMax) {
    throw new LedgerError('INVALID_ARGUMENT', { limit: `1 to ${limits.pageSizeMax}` });
  }
  return value;
}

/** Reads inside one transaction, so that rows and watermark are one snapshot. */
function snapshot<T>(db: ReadModelDb, read: () => T): T & { watermark: readonly Watermark[] } {
  return db.transaction(() => ({ ...read(), watermark: readWatermarks(db) }))();
}

export function watermarksOf(db: ReadModelDb): Watermark[] {
  return readWatermarks(db);
}

export function accountsOf(
  db: ReadModelDb,
  ids: readonly string[],
): { accounts: (ReadModelAccount | undefined)[]; watermark: readonly Watermark[] } {
  const select = db.prepare('SELECT * FROM accounts WHERE id = ?').safeIntegers(true);
  return snapshot(db, () => ({
    accounts: ids.map((id) => {
      const row = select.get(id) as Row | undefined;
      return row === undefined ? undefined : accountOf(row);
    }),
  }));
}

export interface StatementOptions {
  readonly accountId: string;
  /** Inclusive, ns since the epoch (default: the beginning). */
  readonly from?: bigint;
  /** Exclusive, ns since the epoch (default: the end of time). */
  readonly to?: bigint;
  /** Entries per page, 1 to limits.pageSizeMax (default 1,000). */
  readonly limit?: number;
  readonly cursor?: string | null;
}

function postedAt(db: ReadModelDb, accountId: string, before: bigint): PostedBalance {
  const row = db
    .prepare(
      'SELECT balance, debits_posted, credits_posted FROM entries ' +
        'WHERE account_id = ? AND timestamp < ? ' +
        'ORDER BY timestamp DESC, shard DESC, sequence DESC, entry_index DESC LIMIT 1',
    )
    .get(accountId, before) as Row | undefined;
  if (row === undefined) return ZERO;
  return {
    balance: BigInt(row['balance'] as string),
    debitsPosted: BigInt(row['debits_posted'] as string),
    creditsPosted: BigInt(row['credits_posted'] as string),
  };
}

function parseCursor(cursor: string): [bigint, bigint, bigint] {
  const parts = cursor.split(':');
  if (parts.length !== 3 || !parts.every((part) => /^\d{1,20}$/.test(part)))
    throw new LedgerError('INVALID_ARGUMENT', { cursor });
  return parts.map((part) => BigInt(part)) as [bigint, bigint, bigint];
}

/** Statement of an account over [from, to): opening and closing posted balance, debit and credit
 * totals of the range, and one page of entries in posting order. */
export function statementOf(db: ReadModelDb, options: StatementOptions): Statement {
  const limit = checkLimit(options.limit);
  const from = options.from ?? 0n;
  const to = options.to ?? TIMESTAMP_MAX;
  if (from < 0n || to > TIMESTAMP_MAX || from > to)
    throw new LedgerError('INVALID_ARGUMENT', { range: 'need 0 <= from <= to < 2^63' });
  const cursor =
    options.cursor === undefined || options.cursor === null ? null : parseCursor(options.cursor);
  return snapshot(db, () => {
    const accountRow = db
      .prepare('SELECT * FROM accounts WHERE id = ?')
      .safeIntegers(true)
      .get(options.accountId) as Row | undefined;
    const opening = postedAt(db, options.accountId, from);
    const closing = postedAt(db, options.accountId, to);
    const after = cursor ?? [from, 0n, -1n];
    const rows = db
      .prepare(
        'SELECT * FROM entries WHERE account_id = ? AND timestamp >= ? AND timestamp < ? ' +
          'AND (timestamp, sequence, entry_index) > (?, ?, ?) ' +
          'ORDER BY timestamp, shard, sequence, entry_index LIMIT ?',
      )
      .safeIntegers(true)
      .all(options.accountId, from, to, after[0], after[1], after[2], limit + 1) as Row[];
    const entries = rows.slice(0, limit).map(entryOf);
    const last = entries[entries.length - 1];
    return {
      accountId: options.accountId,
      account: accountRow === undefined ? null : accountOf(accountRow),
      from,
      to,
      opening,
      closing,
      debits: closing.debitsPosted - opening.debitsPosted,
      credits: closing.creditsPosted - opening.creditsPosted,
      entries,
      nextCursor:
        rows.length > limit && last !== undefined
          ? `${last.timestamp}:${last.sequence}:${last.entryIndex}`
          : null,
    };
  });
}

/** The account's posted balance as of a time (ns, inclusive): after every entry at or before it. */
export function balanceAsOfTime(
  db: ReadModelDb,
  options: { readonly accountId: string; readonly timestamp: bigint },
): PostedBalance & {
  accountId: string;
  timestamp: bigint;
  found: boolean;
  watermark: readonly Watermark[];
} {
  if (options.timestamp < 0n || options.timestamp >= TIMESTAMP_MAX)
    throw new LedgerError('INVALID_ARGUMENT', { timestamp: String(options.timestamp) });
  return snapshot(db, () => {
    const found =
      db.prepare('SELECT 1 FROM accounts WHERE id = ?').get(options.accountId) !== undefined;
    return {
      accountId: options.accountId,
      timestamp: options.timestamp,
      found,
      ...postedAt(db, options.accountId, options.timestamp + 1n),
    };
  });
}

/** Transfers whose metadata has `key` = `value`, by id, paginated. */
export function transfersByMetadata(
  db: ReadModelDb,
  options: {
    readonly key: string;
    readonly value: string;
    readonly limit?: number;
    readonly afterId?: string | null;
  },
): { transfers: ReadModelTransfer[]; nextAfterId: string | null; watermark: readonly Watermark[] } {
  const limit = checkLimit(options.limit);
  return snapshot(db, () => {
    const rows = db
      .prepare(
        'SELECT t.* FROM transfer_metadata m JOIN transfers t ON t.id = m.transfer_id ' +
          'WHERE m.key = ? AND m.value = ? AND m.transfer_id > ? ORDER BY m.transfer_id LIMIT ?',
      )
      .safeIntegers(true)
      .all(options.key, options.value, options.afterId ?? '', limit + 1) as Row[];
    const transfers = rows.slice(0, limit).map(transferOf);
    const last = transfers[transfers.length - 1];
    return { transfers, nextAfterId: rows.length > limit && last !== undefined ? last.id : null };
  });
}

/** Transfers by id (undefined where the read model has none yet). */
export function transfersOf(
  db: ReadModelDb,
  ids: readonly string[],
): { transfers: (ReadModelTransfer | undefined)[]; watermark: readonly Watermark[] } {
  const select = db.prepare('SELECT * FROM transfers WHERE id = ?').safeIntegers(true);
  return snapshot(db, () => ({
    transfers: ids.map((id) => {
      const row = select.get(id) as Row | undefined;
      return row === undefined ? undefined : transferOf(row);
    }),
  }));
}

/** Sums of every account's counters per currency. */
export function currencyTotalsOf(db: ReadModelDb): {
  totals: CurrencyTotals[];
  watermark: readonly Watermark[];
} {
  return snapshot(db, () => ({
    totals: (db.prepare('SELECT * FROM currency_totals ORDER BY currency').all() as Row[]).map(
      (row) => ({
        currency: row['currency'] as string,
        debitsPosted: BigInt(row['debits_posted'] as string),
        creditsPosted: BigInt(row['credits_posted'] as string),
        debitsPending: BigInt(row['debits_pending'] as string),
        creditsPending: BigInt(row['credits_pending'] as string),
      }),
    ),
  }));
}
