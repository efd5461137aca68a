// Queries over the read model. Each runs in one read transaction and returns the watermark (per
// shard, the last projected sequence) that its rows reflect: the result is exactly the write side
// as of those sequence numbers. Amounts come back as bigint; sums are done in bigint.

import { LedgerError } from '@shardledger/ledger-core';
import { isValidId } from '@shardledger/ledger-core/internals';
import type { Account, AccountPage, AsOf, PageOptions, Transfer } from '../ledger-types.js';
import { badCursor, pageOf, type CheckedPage } from '../page.js';
import type { ReadModelDb } from './read-model-db.js';
import type { Watermark } from './projector.js';
import {
  accountOf,
  entryOf,
  postingsSql,
  readWatermarks,
  snapshot,
  transferOf,
  type Row,
} from './query-rows.js';

/** Timestamps are ns since the epoch; the largest one a statement range can name. */
const TIMESTAMP_MAX = (1n << 63n) - 1n;

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
  readonly account: Account | null;
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
  /** Pass as `after` for the next page; null when this page is the last. */
  readonly next: string | null;
  readonly watermark: readonly Watermark[];
}

/** A page of ReadModel.listAccounts: the Ledger's AccountPage and the watermark it reflects. */
export interface ReadModelAccountPage extends AccountPage {
  readonly watermark: readonly Watermark[];
}

/** A page of ReadModel.transfersByMetadata. */
export interface TransferPage {
  readonly transfers: readonly Transfer[];
  /** Pass as `after` for the next page; null when this page is the last. */
  readonly next: string | null;
  readonly watermark: readonly Watermark[];
}

export interface CurrencyTotals {
  readonly currency: string;
  readonly debitsPosted: bigint;
  readonly creditsPosted: bigint;
  readonly debitsPending: bigint;
  readonly creditsPending: bigint;
}

const ZERO: PostedBalance = Object.freeze({ balance: 0n, debitsPosted: 0n, creditsPosted: 0n });

export function watermarksOf(db: ReadModelDb): Watermark[] {
  return readWatermarks(db);
}

/** Accounts by id, as Ledger.lookupAccounts answers (undefined where the read model has none). */
export function accountsOf(db: ReadModelDb, ids: readonly string[]): (Account | undefined)[] {
  const select = db.prepare('SELECT * FROM accounts WHERE id = ?').safeIntegers(true);
  return db.transaction(() =>
    ids.map((id) => {
      const row = select.get(id) as Row | undefined;
      return row === undefined ? undefined : accountOf(row);
    }),
  )();
}

/** A page of accounts in id order, as Ledger.listAccounts pages them; the cursor is the last id
 * of the page before. */
export function listAccountsOf(
  db: ReadModelDb,
  options: CheckedPage & { readonly currency: string | null },
): ReadModelAccountPage {
  const { limit, currency } = options;
  return snapshot(db, () => {
    const rows = db
      .prepare(
        'SELECT * FROM accounts WHERE id > ? AND (? IS NULL OR currency = ?) ORDER BY id LIMIT ?',
      )
      .safeIntegers(true)
      .all(options.after ?? '', currency, currency, limit + 1) as Row[];
    const { items, next } = pageOf(rows.map(accountOf), limit, (last) => last.id);
    return { accounts: items, next };
  });
}

export interface StatementOptions extends PageOptions {
  readonly accountId: string;
  /** Inclusive, ns since the epoch (default: the beginning). */
  readonly from?: bigint;
  /** Exclusive, ns since the epoch (default: the end of time). */
  readonly to?: bigint;
}

/** The account's posted counters after its last entry before `before` (ns) and at or before
 * event `sequenceMax` of its shard. */
function postedAt(
  db: ReadModelDb,
  accountId: string,
  before: bigint,
  sequenceMax = Number.MAX_SAFE_INTEGER,
): PostedBalance {
  const row = db
    .prepare(
      `${postingsSql('timestamp < @before AND sequence <= @sequenceMax')} ` +
        'ORDER BY timestamp DESC, sequence DESC, entry_index DESC LIMIT 1',
    )
    .get({ account: accountId, before, sequenceMax }) as Row | undefined;
  if (row === undefined) return ZERO;
  const debitsPosted = BigInt(row['debits_posted'] as string);
  const creditsPosted = BigInt(row['credits_posted'] as string);
  return { balance: creditsPosted - debitsPosted, debitsPosted, creditsPosted };
}

/** A statement cursor: the last entry's timestamp, sequence and entry index. */
function readStatementCursor(after: string): [bigint, bigint, bigint] {
  const parts = after.split(':');
  if (parts.length !== 3 || !parts.every((part) => /^\d{1,20}$/.test(part))) badCursor(after);
  return parts.map((part) => BigInt(part)) as [bigint, bigint, bigint];
}

/** Statement of an account over [from, to): opening and closing posted balance, debit and credit
 * totals of the range, and one page of entries in posting order. */
export function statementOf(db: ReadModelDb, options: StatementOptions & CheckedPage): Statement {
  const limit = options.limit;
  const from = options.from ?? 0n;
  const to = options.to ?? TIMESTAMP_MAX;
  if (from < 0n || to > TIMESTAMP_MAX || from > to)
    throw new LedgerError('INVALID_ARGUMENT', { range: 'need 0 <= from <= to < 2^63' });
  const cursor = options.after === null ? null : readStatementCursor(options.after);
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
        `${postingsSql(
          'timestamp >= @from AND timestamp < @to AND ' +
            '(timestamp, sequence, entry_index) > (@afterTimestamp, @afterSequence, @afterIndex)',
        )} ORDER BY timestamp, sequence, entry_index LIMIT @limit`,
      )
      .safeIntegers(true)
      .all({
        account: options.accountId,
        from,
        to,
        afterTimestamp: after[0],
        afterSequence: after[1],
        afterIndex: after[2],
        limit: limit + 1,
      }) as Row[];
    const { items, next } = pageOf(
      rows.map((row) => entryOf(options.accountId, row)),
      limit,
      (last) => `${last.timestamp}:${last.sequence}:${last.entryIndex}`,
    );
    return {
      accountId: options.accountId,
      account: accountRow === undefined ? null : accountOf(accountRow),
      from,
      to,
      opening,
      closing,
      debits: closing.debitsPosted - opening.debitsPosted,
      credits: closing.creditsPosted - opening.creditsPosted,
      entries: items,
      next,
    };
  });
}

/** The account's pending counters after its last change at or before `timestamp` (ns) and event
 * `sequence` of its shard. */
function pendingAt(
  db: ReadModelDb,
  accountId: string,
  timestamp: bigint,
  sequence: number,
): [bigint, bigint] {
  const row = db
    .prepare(
      'SELECT debits_pending, credits_pending FROM pending_entries ' +
        'WHERE account_id = ? AND sequence <= ? AND timestamp <= ? ORDER BY sequence DESC LIMIT 1',
    )
    .get(accountId, sequence, timestamp) as Row | undefined;
  if (row === undefined) return [0n, 0n];
  return [BigInt(row['debits_pending'] as string), BigInt(row['credits_pending'] as string)];
}

/** The account as it was at a moment (AsOf), as Ledger.balanceAsOf answers: its counters after
 * every change at or before it. Undefined when it did not exist then (or is not projected yet). */
export function balanceAsOfOf(db: ReadModelDb, accountId: string, at: AsOf): Account | undefined {
  const timestamp = at.timestamp ?? TIMESTAMP_MAX - 1n;
  if (timestamp < 0n || timestamp >= TIMESTAMP_MAX)
    throw new LedgerError('INVALID_ARGUMENT', { timestamp: String(timestamp) });
  const sequence = at.sequence ?? Number.MAX_SAFE_INTEGER;
  return db.transaction(() => {
    const row = db
      .prepare('SELECT * FROM accounts WHERE id = ?')
      .safeIntegers(true)
      .get(accountId) as Row | undefined;
    if (row === undefined) return undefined;
    // Created after the moment (timestamps rise with the sequence numbers of its shard).
    if ((row['timestamp'] as bigint) > timestamp || Number(row['sequence']) > sequence)
      return undefined;
    const posted = postedAt(db, accountId, timestamp + 1n, sequence);
    const [debitsPending, creditsPending] = pendingAt(db, accountId, timestamp, sequence);
    return {
      ...accountOf(row),
      debitsPosted: posted.debitsPosted,
      creditsPosted: posted.creditsPosted,
      debitsPending,
      creditsPending,
      balance: posted.balance,
      available: posted.balance - debitsPending,
    };
  })();
}

/** Transfers whose metadata has `key` = `value`, by id, a page at a time (the cursor is the last
 * transfer id of the page before). */
export function transfersByMetadata(
  db: ReadModelDb,
  options: { readonly key: string; readonly value: string } & CheckedPage,
): TransferPage {
  const { limit, after } = options;
  if (after !== null && !isValidId(after)) badCursor(after);
  return snapshot(db, () => {
    const rows = db
      .prepare(
        'SELECT t.* FROM transfer_metadata m JOIN transfers t ON t.id = m.transfer_id ' +
          'WHERE m.key = ? AND m.value = ? AND m.transfer_id > ? ORDER BY m.transfer_id LIMIT ?',
      )
      .safeIntegers(true)
      .all(options.key, options.value, after ?? '', limit + 1) as Row[];
    const { items, next } = pageOf(rows.map(transferOf), limit, (last) => last.id);
    return { transfers: items, next };
  });
}

/** Transfers by id, as Ledger.lookupTransfers answers (undefined where the read model has none
 * yet). */
export function transfersOf(db: ReadModelDb, ids: readonly string[]): (Transfer | undefined)[] {
  const select = db.prepare('SELECT * FROM transfers WHERE id = ?').safeIntegers(true);
  return db.transaction(() =>
    ids.map((id) => {
      const row = select.get(id) as Row | undefined;
      return row === undefined ? undefined : transferOf(row);
    }),
  )();
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
