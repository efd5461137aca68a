// The transfers rows (and their metadata rows) of transfers applied on one shard: a transfer, a
// post or void of a hold, and the post or void of a cross-shard hold as its deciding shard
// recorded it. A row whose event posted carries both accounts' counters after the posting (the
// two statement entries); where the row cannot (another row holds the id), they go to entries.

import { type Metadata, type TransferRecord } from '@shardledger/ledger-core';
import { assert } from '@shardledger/ledger-core/internals';
import {
  metadataText,
  type EventPosition,
  type ProjectorStatements,
} from './projector-statements.js';

/** A same-shard transfer row: the write side's record fields, with the state as stored. */
export type LocalTransfer = Omit<
  TransferRecord,
  'timestamp' | 'postedAmount' | 'sagaId' | 'state'
> & {
  readonly state: string;
};

/** What an account's posted counters are right after a posting: debits, credits. */
export type PostedCounters = readonly [bigint, bigint];

/** The postings of a row's event: its amount out of the debit account and into the credit
 * account, with each account's posted counters right after it (the debit side is posted first:
 * entry 0, then entry 1). */
export interface RowPostings {
  readonly kind: 'transfer' | 'post_pending';
  readonly debit: PostedCounters;
  readonly credit: PostedCounters;
}

/** A posting as an entries row holds it. */
interface EntryPosting {
  readonly accountId: string;
  readonly at: EventPosition;
  readonly entryIndex: number;
  readonly transferId: string;
  readonly kind: 'transfer' | 'post_pending';
  /** Signed: credits positive. */
  readonly amount: bigint;
  readonly counters: PostedCounters;
}

/** Writes one posting as an entries row. */
export function insertEntry(statements: ProjectorStatements, entry: EntryPosting): void {
  const [debits, credits] = entry.counters;
  statements.insertEntry.run(
    entry.accountId,
    entry.at.timestamp,
    entry.at.sequence,
    entry.entryIndex,
    entry.at.shard,
    entry.transferId,
    entry.kind,
    entry.amount.toString(),
    debits.toString(),
    credits.toString(),
  );
}

/** The two postings of a row's event as entries rows (a row that could not carry them). */
function insertRowEntries(
  statements: ProjectorStatements,
  at: EventPosition,
  row: { readonly id: string; readonly debitAccountId: string; readonly creditAccountId: string },
  posting: { readonly amount: bigint; readonly postings: RowPostings },
): void {
  const { amount, postings } = posting;
  const common = { at, transferId: row.id, kind: postings.kind };
  insertEntry(statements, {
    ...common,
    accountId: row.debitAccountId,
    entryIndex: 0,
    amount: -amount,
    counters: postings.debit,
  });
  insertEntry(statements, {
    ...common,
    accountId: row.creditAccountId,
    entryIndex: 1,
    amount,
    counters: postings.credit,
  });
}

/** Before a row that carries postings is deleted: its postings as entries rows. */
function movePostingsToEntries(statements: ProjectorStatements, id: string): void {
  const row = statements.rowPostings.get(id) as Record<string, string | bigint | null> | undefined;
  if (row === undefined || row['debit_debits_posted'] === null) return;
  const text = (column: string): bigint => BigInt(row[column] as string);
  insertRowEntries(
    statements,
    {
      shard: Number(row['shard']),
      sequence: Number(row['sequence']),
      timestamp: row['timestamp'] as bigint,
    },
    {
      id,
      debitAccountId: row['debit_account_id'] as string,
      creditAccountId: row['credit_account_id'] as string,
    },
    {
      amount: text('amount'),
      postings: {
        kind: row['kind'] === 'post' ? 'post_pending' : 'transfer',
        debit: [text('debit_debits_posted'), text('debit_credits_posted')],
        credit: [text('credit_debits_posted'), text('credit_credits_posted')],
      },
    },
  );
}

/** Writes the row of a transfer applied on one shard, with the postings of its event (null:
 * it posted nothing). If its id already has a row: a released saga's row gives way; of two such
 * transfers on different shards (shards that did not check ids against each other may hold both)
 * the one with the lower (shard, sequence) is kept, whatever order the shards were projected in.
 * The postings of a row not kept are entries rows, so every posting is stored once, in the same
 * place whatever that order was. */
export function putLocalTransfer(
  statements: ProjectorStatements,
  at: EventPosition,
  row: LocalTransfer,
  postings: RowPostings | null,
): void {
  assert(
    postings === null || postings.kind === (row.kind === 'post' ? 'post_pending' : 'transfer'),
    'a row posts as its kind',
  );
  const counter = (side: PostedCounters | undefined, index: 0 | 1): string | null =>
    side === undefined ? null : (side[index] as bigint).toString();
  const values = [
    row.id,
    row.kind,
    row.debitAccountId,
    row.creditAccountId,
    row.amount.toString(),
    row.currency,
    row.pending ? 1 : 0,
    row.timeoutMs,
    metadataText(row.metadata),
    row.pendingId,
    row.state,
    null,
    at.timestamp,
    at.shard,
    at.sequence,
    null,
    0,
    counter(postings?.debit, 0),
    counter(postings?.debit, 1),
    counter(postings?.credit, 0),
    counter(postings?.credit, 1),
  ] as const;
  if (statements.insertTransfer.run(...values).changes === 0) {
    const existing = statements.transferOrigin.get(row.id) as {
      saga_id: string | null;
      shard: bigint;
      sequence: bigint;
    };
    const older =
      existing.saga_id === null &&
      (Number(existing.shard) < at.shard ||
        (Number(existing.shard) === at.shard && Number(existing.sequence) < at.sequence));
    if (older) {
      if (postings !== null)
        insertRowEntries(statements, at, row, { amount: row.amount, postings });
      return;
    }
    movePostingsToEntries(statements, row.id);
    deleteTransfer(statements, row.id);
    assert(statements.insertTransfer.run(...values).changes === 1, 'transfer row replaced');
  }
  putMetadata(statements, row.id, row.metadata);
}

/** Writes the row of the post or void of a cross-shard hold, which both of its shards record (the
 * debit shard, which decided it, and the credit shard, which followed). Whichever comes first
 * writes the row (putLocalTransfer); the other side's makes it one row whatever the order: the
 * lower (shard, sequence) as its origin and the later time (when both shards hold it, as
 * lookupTransfers dates it). */
export function putHoldResolution(
  statements: ProjectorStatements,
  at: EventPosition,
  row: LocalTransfer,
): void {
  const followed = statements.followResolution.run(
    at.timestamp,
    at.shard,
    at.sequence,
    at.shard,
    row.id,
    row.kind,
    row.pendingId,
  ).changes;
  if (followed === 0) putLocalTransfer(statements, at, row, null);
}

/** Marks the row of a same-shard hold as resolved: 'posted' (with the amount posted), 'voided' or
 * 'expired'. */
export function resolveHold(
  statements: ProjectorStatements,
  shard: number,
  pendingId: string,
  state: 'posted' | 'voided' | 'expired',
  postedAmount: bigint | null,
): void {
  statements.resolveHold.run(
    state,
    postedAmount === null ? null : postedAmount.toString(),
    pendingId,
    shard,
    'transfer',
  );
}

/** Removes a transfer's row and its metadata rows. */
export function deleteTransfer(statements: ProjectorStatements, id: string): void {
  statements.deleteTransfer.run(id);
  statements.deleteMetadata.run(id);
}

/** One metadata row per key of the transfer's metadata. */
export function putMetadata(
  statements: ProjectorStatements,
  id: string,
  metadata: Metadata | null,
): void {
  if (metadata === null) return;
  for (const key of Object.keys(metadata))
    statements.insertMetadata.run(key, metadata[key] as string, id);
}
