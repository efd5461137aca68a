// The plain-transfer lane of ShardEngine.submitEncoded: plain transfers (TransferColumnsReader
// .isPlain) with new ids are applied straight from the batch's columns, building no command,
// event or record object; the runs of transfers it applied are their part of the id index.

import { assert } from '../assert.js';
import { applyPlainTransfer } from '../domain/plain-transfer.js';
import type { LedgerState } from '../domain/state.js';
import type { Command, LedgerEvent, TransferRecord } from '../domain/types.js';
import type { CommandBatchView, ResultBatchWriter } from './batch-codec.js';
import { encodePlainRun, findInPlainRun } from './plain-run.js';
import type { EventRecordBuilder } from './event-record.js';
import { isAscii, type IdMax } from './id-max.js';
import type { ShardDatabases } from './lmdb-env.js';
import { searchAscending } from './sorted-ids.js';
import type { TransferColumnsReader } from './transfer-columns.js';

/** Plain transfers applied by the lane (no record objects): the batch columns they came from,
 * and per transfer its column and timestamp offset. Their ids ascend (each was above every id
 * before it), so a lookup is a binary search. Once written (IdIndex.flush), the run keeps only
 * its encoded value and answers from it: the batch's split columns (tens of thousands of small
 * strings) can then die young instead of living, and being promoted, until the commit is
 * durable. */
export class PlainRun {
  readonly columns: number[] = [];
  readonly offsets: number[] = [];
  readonly base: bigint;
  private input: TransferColumnsReader | null;
  private encoded: Buffer | null = null;
  constructor(input: TransferColumnsReader, base: bigint) {
    this.input = input;
    this.base = base;
  }
  /** Encodes the run (codec.ts encodePlainRun) and from then on answers from that value.
   * Returns the index key (the first id) and the value. */
  seal(): { key: string; value: Buffer } {
    const input = this.input;
    assert(input !== null, 'a plain run is sealed once');
    const key = input.ids[this.columns[0] as number] as string;
    const value = encodePlainRun(input, this.columns, this.offsets, this.base);
    this.encoded = value;
    this.input = null;
    return { key, value };
  }
  find(id: string): TransferRecord | undefined {
    if (this.encoded !== null) return findInPlainRun(this.encoded, id);
    const input = this.input as TransferColumnsReader;
    const ids = input.ids;
    const columns = this.columns;
    const at = searchAscending(
      columns.length,
      (index) => ids[columns[index] as number] as string,
      id,
    );
    return at === -1 ? undefined : this.record(input, at);
  }
  private record(input: TransferColumnsReader, at: number): TransferRecord {
    const column = this.columns[at] as number;
    return {
      id: input.ids[column] as string,
      kind: 'transfer',
      debitAccountId: input.debits[column] as string,
      creditAccountId: input.credits[column] as string,
      amount: BigInt(input.columns.amounts[column] as number),
      currency: input.currencies[column] as string,
      pending: false,
      timeoutMs: 0,
      metadata: null,
      timestamp: this.base + BigInt(this.offsets[at] as number),
      pendingId: null,
      state: 'posted',
      postedAmount: null,
      sagaId: null,
    };
  }
}

/** The value of a runs db (plain or saga runs, keyed by their first id) with the greatest key
 * <= `key` (the one run that may hold it), or the last run when `key` is omitted. */
export function runAtOrBelow(db: ShardDatabases['runs'], key?: string): Buffer | undefined {
  for (const { value } of db.getRange(
    key === undefined ? { reverse: true, limit: 1 } : { start: key, reverse: true, limit: 1 },
  ))
    return value;
  return undefined;
}

/** One submitEncoded call as the lane sees it: the batch, where its results and log record go,
 * the run that collects what the lane applies, and the call's first sequence and timestamp
 * (event k of the call gets timestamp now + k). */
export interface LaneCall {
  readonly view: CommandBatchView;
  readonly results: ResultBatchWriter;
  readonly record: EventRecordBuilder;
  readonly run: PlainRun;
  readonly first: number;
  readonly now: bigint;
}

/**
 * Applies the batch's commands in order: a plain transfer whose id is above `ids` (and so new)
 * and whose accounts pass every check on exact number counters is applied here; every other
 * command (and any transfer the lane would reject) is handed to `decideOne`, which decides and
 * evolves it as submit() does and adds its events to the record. The lane is
 * decideCreateTransfer + evolve specialised for that case: same results, state and log bytes.
 * `historyMask` is the account flag that keeps a transfer out of the lane (its postings are
 * indexed), or 0 when the history index is off.
 */
export function runPlainLane(
  state: LedgerState,
  ids: IdMax,
  historyMask: number,
  call: LaneCall,
  decideOne: (command: Command, index: number) => void,
): void {
  const { view, results, record, run, first, now } = call;
  const input = view.transfers;
  const { ids: idColumn, debits, credits } = input;
  const sameCurrency = input.sameCurrency;
  const currencies = sameCurrency === null ? input.currencies : null;
  const amounts = input.columns.amounts;
  // One native pass instead of isAscii per id: UTF-8 is longer than UTF-16 exactly when a code
  // unit is above 0x7f.
  const idsAscii = Buffer.byteLength(input.columns.ids, 'utf8') === input.columns.ids.length;
  // Whether state.lastTimestamp trails events the lane applied (it is set lazily).
  let timestampBehind = false;
  let column = 0;
  for (let index = 0; index < view.count; index += 1) {
    const other = view.onlyTransfers ? undefined : view.others[index];
    if (other === undefined) {
      const id = idColumn[column] as string;
      if (
        ids.fastPath &&
        id > ids.max &&
        input.isPlain(column) &&
        (idsAscii || isAscii(id)) &&
        applyPlainTransfer(
          state,
          debits[column] as string,
          credits[column] as string,
          sameCurrency ?? ((currencies as string[])[column] as string),
          amounts[column] as number,
          historyMask,
        )
      ) {
        const sequence = state.lastSequence + 1;
        state.lastSequence = sequence;
        timestampBehind = true;
        const offset = sequence - first;
        record.addInputTransfer(column, offset);
        run.columns.push(column);
        run.offsets.push(offset);
        ids.max = id;
        results.ok(index, sequence, offset);
        column += 1;
        continue;
      }
    }
    if (timestampBehind) {
      state.lastTimestamp = now + BigInt(state.lastSequence - first);
      timestampBehind = false;
    }
    if (other !== undefined) decideOne(other, index);
    else {
      const spec = input.spec(column);
      column += 1;
      decideOne({ type: 'CreateTransfer', transfer: spec }, index);
    }
  }
  assert(column === input.count, 'every transfer column used');
  if (timestampBehind) state.lastTimestamp = now + BigInt(state.lastSequence - first);
}

/** Moves the events decided for a command (applyCommand) into the call's record; checks that
 * their timestamps follow now + k and that the record ends at `lastSequence` (the state's). */
export function addDecidedEvents(
  record: EventRecordBuilder,
  events: LedgerEvent[],
  call: { readonly first: number; readonly now: bigint },
  lastSequence: number,
): void {
  for (const event of events) {
    assert(
      event.timestamp === call.now + BigInt(record.eventCount),
      'event k of a call has timestamp now + k',
    );
    record.addEvent(event);
  }
  events.length = 0;
  assert(
    call.first + record.eventCount - 1 === lastSequence,
    'record and state agree on the sequence',
  );
}
