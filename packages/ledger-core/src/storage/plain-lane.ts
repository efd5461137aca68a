// The plain-transfer lane of ShardEngine.submitEncoded: plain transfers (TransferColumnsReader
// .isPlain) with new ids are applied straight from the batch's columns, building no command,
// event or record object; the runs of transfers it applied are their part of the id index.

import { assert } from '../assert.js';
import { applyPlainTransfer } from '../domain/plain-transfer.js';
import type { LedgerState } from '../domain/state.js';
import type { Command, LedgerEvent, TransferRecord } from '../domain/types.js';
import type { CommandBatchView, ResultBatchWriter } from './batch-codec.js';
import { findInPlainRun, plainRunBytes, writePlainRun } from './plain-run.js';
import { ValueArena } from './value-arena.js';
import { runFilter, scatteredChunkEntries, type BuiltRun } from './scattered-run.js';
import type { EventRecordBuilder } from './event-record.js';
import { isAsciiColumn } from './column-text.js';
import { hashId } from './id-filter.js';
import { isAscii, type KnownIds } from './known-ids.js';
import type { ShardDatabases } from './lmdb-env.js';
import { indexAtOrBelow, searchAscending, sortedOrder } from './sorted-ids.js';
import type { TransferColumnsReader } from './transfer-columns.js';

/** Plain transfers applied by the lane (no record objects): the batch columns they came from,
 * and per transfer its column and timestamp offset. Two kinds:
 * - ordered: ids each above every id before them (time-ordered ids). They ascend, so they are
 *   written as a few run values of up to orderedChunkEntries each, keyed by their first id, and a
 *   lookup is a binary search in one of them;
 * - scattered: new ids that are not above every id before (random ids such as UUIDv4, found new
 *   by the known-ids filter). They are written sorted as one scattered run (scattered-run.ts).
 * Sealing (IdIndex.flush) encodes both; from then on the run answers from the ordered value and
 * keeps no columns, so the batch's split columns (tens of thousands of small strings) can die
 * young instead of living, and being promoted, until the commit is durable. The scattered value
 * is then found through the shard's ScatteredRuns. */
export class PlainRun {
  /** The ordered transfers' batch columns and timestamp offsets, the first orderedCount used. */
  readonly columns: Int32Array;
  readonly offsets: Int32Array;
  orderedCount = 0;
  /** The scattered transfers' columns, offsets and id hashes (two words each: the known-ids
   * filter's hash, which the run's own filter takes too), the first scatteredCount used. */
  readonly scatteredColumns: Int32Array;
  readonly scatteredOffsets: Int32Array;
  readonly scatteredHashes: Uint32Array;
  scatteredCount = 0;
  readonly base: bigint;
  private input: TransferColumnsReader | null;
  /** The ordered transfers' index entries once sealed (ascending keys), else null. */
  private encoded: readonly { readonly key: string; readonly value: Buffer }[] | null = null;
  /** The scattered entries by their id's hash (entry + 1 per slot, 0 for none, linear probing),
   * made at the first lookup before sealing and brought up to date by each (findScattered):
   * kept in step with every add instead, it cost the lane about 0.1 µs per transfer. */
  private scatteredSlots: Int32Array | null = null;
  private scatteredMapped = 0;
  private readonly lookupHash = new Uint32Array(2);
  constructor(input: TransferColumnsReader, base: bigint) {
    this.input = input;
    this.base = base;
    // Sized for the batch: a transfer is added to one of the two at most.
    this.columns = new Int32Array(input.count);
    this.offsets = new Int32Array(input.count);
    this.scatteredColumns = new Int32Array(input.count);
    this.scatteredOffsets = new Int32Array(input.count);
    this.scatteredHashes = new Uint32Array(2 * input.count);
  }
  /** Transfers the lane applied into this run. */
  get count(): number {
    return this.orderedCount + this.scatteredCount;
  }
  addOrdered(column: number, offset: number): void {
    const at = this.orderedCount;
    this.columns[at] = column;
    this.offsets[at] = offset;
    this.orderedCount = at + 1;
  }
  /** Adds a scattered transfer; `hashes` holds its id's hashId at 2 * column (KnownIds). */
  addScattered(column: number, offset: number, hashes: Uint32Array): void {
    const at = this.scatteredCount;
    this.scatteredColumns[at] = column;
    this.scatteredOffsets[at] = offset;
    this.scatteredHashes[2 * at] = hashes[2 * column] as number;
    this.scatteredHashes[2 * at + 1] = hashes[2 * column + 1] as number;
    this.scatteredCount = at + 1;
  }
  /** Encodes the run: the ordered transfers as plain runs of up to orderedChunkEntries each, keyed
   * by their first id (a lookup reads one of them, not the commit's whole run), the scattered
   * ones sorted by id as a level-0 scattered run. */
  seal(): SealedRun {
    const input = this.input;
    assert(input !== null && this.encoded === null, 'a plain run is sealed once');
    this.input = null;
    const ordered: { readonly key: string; readonly value: Buffer }[] = [];
    const count = this.orderedCount;
    if (count > 0) {
      const arena = new ValueArena(
        plainRunBytes(count) + Math.ceil(count / orderedChunkEntries) * plainRunBytes(0),
      );
      const entries = { columns: this.columns, offsets: this.offsets, order: null, from: 0, to: 0 };
      for (let from = 0; from < count; from += orderedChunkEntries) {
        entries.from = from;
        entries.to = Math.min(count, from + orderedChunkEntries);
        const key = input.ids[this.columns[from] as number] as string;
        ordered.push({ key, value: writePlainRun(arena, input, entries, this.base) });
      }
    }
    this.encoded = ordered;
    return { ordered, scattered: this.sealScattered(input) };
  }
  private sealScattered(input: TransferColumnsReader): SealedRun['scattered'] {
    const columns = this.scatteredColumns;
    const count = this.scatteredCount;
    if (count === 0) return null;
    const ids = new Array<string>(count);
    for (let at = 0; at < count; at += 1) ids[at] = input.ids[columns[at] as number] as string;
    const order = sortedOrder(ids);
    const filter = runFilter(count);
    // The ids' hashes in id order: the run's, for a merge to take (BuiltRun.hashes).
    const hashes = new Uint32Array(2 * count);
    const given = this.scatteredHashes;
    for (let at = 0; at < count; at += 1) {
      const from = 2 * (order[at] as number);
      const blockHash = given[from] as number;
      const bitHash = given[from + 1] as number;
      hashes[2 * at] = blockHash;
      hashes[2 * at + 1] = bitHash;
      filter.addHash(blockHash, bitHash);
    }
    // Each chunk is encoded straight from the batch's columns in id order, into one arena whose
    // views the chunks are (no per-chunk buffer, no copy of encoded entries).
    const chunkCount = Math.ceil(count / scatteredChunkEntries);
    const arena = new ValueArena(plainRunBytes(count) + chunkCount * plainRunBytes(0));
    const fences: string[] = [];
    const chunks: Buffer[] = [];
    const entries = { columns, offsets: this.scatteredOffsets, order, from: 0, to: 0 };
    for (let from = 0; from < count; from += scatteredChunkEntries) {
      entries.from = from;
      entries.to = Math.min(count, from + scatteredChunkEntries);
      fences.push(ids[order[from] as number] as string);
      chunks.push(writePlainRun(arena, input, entries, this.base));
    }
    this.scatteredCount = 0;
    this.scatteredSlots = null;
    this.scatteredMapped = 0;
    return { count, filter: filter.words, fences, chunks, hashes };
  }
  /** The record of `id` if the run holds it; after sealing, of its ordered transfers only. */
  find(id: string): TransferRecord | undefined {
    if (this.encoded !== null) {
      const encoded = this.encoded;
      const at = indexAtOrBelow(encoded.length, (index) => encoded[index]?.key as string, id);
      return at === -1 ? undefined : findInPlainRun((encoded[at] as { value: Buffer }).value, id);
    }
    const input = this.input;
    if (input === null) return undefined;
    const ids = input.ids;
    // Scattered, before sealing: only lookups during the call's own commands come here (a repeat
    // in the call, or one of the filter's false positives).
    const found = this.findScattered(id, ids);
    if (found !== -1)
      return this.record(
        this.scatteredColumns[found] as number,
        this.scatteredOffsets[found] as number,
      );
    const columns = this.columns;
    if (this.orderedCount === 0) return undefined;
    const at = searchAscending(
      this.orderedCount,
      (index) => ids[columns[index] as number] as string,
      id,
    );
    return at === -1 ? undefined : this.record(columns[at] as number, this.offsets[at] as number);
  }
  /** The index of scattered entry `id` (of the batch's `ids`) before sealing, or -1. */
  private findScattered(id: string, ids: readonly string[]): number {
    const hashes = this.scatteredHashes;
    const slots = (this.scatteredSlots ??= new Int32Array(slotsFor(this.scatteredColumns.length)));
    const mask = slots.length - 1;
    for (; this.scatteredMapped < this.scatteredCount; this.scatteredMapped += 1) {
      let slot = (hashes[2 * this.scatteredMapped] as number) & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = this.scatteredMapped + 1;
    }
    const hash = this.lookupHash;
    hashId(id, hash);
    const blockHash = hash[0] as number;
    const bitHash = hash[1] as number;
    for (let slot = blockHash & mask; slots[slot] !== 0; slot = (slot + 1) & mask) {
      const at = (slots[slot] as number) - 1;
      if (
        hashes[2 * at] === blockHash &&
        hashes[2 * at + 1] === bitHash &&
        ids[this.scatteredColumns[at] as number] === id
      )
        return at;
    }
    return -1;
  }
  private record(column: number, offset: number): TransferRecord {
    const input = this.input as TransferColumnsReader;
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
      timestamp: this.base + BigInt(offset),
      pendingId: null,
      state: 'posted',
      postedAmount: null,
      sagaId: null,
    };
  }
}

/** What sealing a run gives: the ordered run's index entry and the scattered run's value. */
export interface SealedRun {
  readonly ordered: readonly { readonly key: string; readonly value: Buffer }[];
  /** The scattered transfers, ids ascending, cut into chunks (scattered-run.ts). */
  readonly scattered: BuiltRun | null;
}

/** Slots of a table of `count` entries at most: a power of two, at least twice as many. */
function slotsFor(count: number): number {
  let slots = 16;
  while (slots < 2 * count) slots *= 2;
  return slots;
}

/** Transfers per index entry of a commit's ordered transfers: a lookup reads one entry (about
 * 16 KB), and a commit of 8,190 writes 32 of them. */
export const orderedChunkEntries = 256;

/** The value of a runs db (plain or saga runs, keyed by their first id) with the greatest key
 * <= `key` (the one run that may hold it), or the last run when `key` is omitted. The key is
 * found by a cursor over keys only, and the value read in place (getBinaryFast): a run holds
 * thousands of transfers, and copying it out cost a lookup some 100 µs. The value is valid
 * until the thread's next LMDB read: decode what is needed at once. */
export function runAtOrBelow(db: ShardDatabases['runs'], key?: string): Buffer | undefined {
  for (const found of db.getKeys(
    key === undefined ? { reverse: true, limit: 1 } : { start: key, reverse: true, limit: 1 },
  ))
    return db.getBinaryFast(found);
  return undefined;
}

/** How the lane takes a plain transfer: its id is above every id before (into the ordered
 * run), new by the filter (scattered), or maybe known (decided, which looks it up). */
const ABOVE = 1;
const SCATTERED = 2;
const NOT_NEW = 0;

function laneKind(ids: KnownIds, id: string, column: number, idsAscii: boolean): number {
  if (ids.fastPath && id > ids.max && (idsAscii || isAscii(id))) return ABOVE;
  return ids.mayHaveAt(column) ? NOT_NEW : SCATTERED;
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
 * Applies the batch's commands in order: a plain transfer whose id is new (above `ids`, or not in
 * its filter) and whose accounts pass every check on exact number counters is applied here; every other
 * command (and any transfer the lane would reject) is handed to `decideOne`, which decides and
 * evolves it as submit() does and adds its events to the record. The lane is
 * decideCreateTransfer + evolve specialised for that case: same results, state and log bytes.
 * `historyMask` is the account flag that keeps a transfer out of the lane (its postings are
 * indexed), or 0 when the history index is off.
 */
export function runPlainLane(
  state: LedgerState,
  ids: KnownIds,
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
  const idsAscii = isAsciiColumn(input.columns.ids);
  ids.prepare(idColumn, input.count);
  // Whether state.lastTimestamp trails events the lane applied (it is set lazily).
  let timestampBehind = false;
  let column = 0;
  for (let index = 0; index < view.count; index += 1) {
    const other = view.onlyTransfers ? undefined : view.others[index];
    if (other === undefined) {
      const id = idColumn[column] as string;
      const kind = input.isPlain(column) ? laneKind(ids, id, column, idsAscii) : NOT_NEW;
      if (
        kind !== NOT_NEW &&
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
        if (kind === ABOVE) {
          run.addOrdered(column, offset);
          ids.noteAboveAt(id, column);
        } else {
          run.addScattered(column, offset, ids.preparedHashes);
          ids.noteOtherAt(column);
        }
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
