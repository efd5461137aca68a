// Runs of plain transfers: the id index's batched part (ShardDatabases.runs).

import { assert } from '../assert.js';
import { LedgerError } from '../errors.js';
import type { TransferRecord } from '../domain/types.js';
import { bufferView } from './sorted-ids.js';
import { decodeTransferRecord, writeTransferRecord } from './transfer-record.js';
import type { TransferColumnsReader } from './transfer-columns.js';
import { ValueArena } from './value-arena.js';

const TWO_32 = 2 ** 32;

/** A timestamp base as i64 parts (high, low), so that no bigint is built per transfer. */
function timestampParts(base: bigint): { high: number; low: number } {
  assert(base >= 0n && base < 1n << 62n, 'timestamp base in range');
  return { high: Number(base >> 32n), low: Number(base & 0xffff_ffffn) };
}

const PLAIN_RUN_VERSION = 1;
const PLAIN_RUN_HEADER_BYTES = 5;

/**
 * The index entry of a run of plain transfers applied by the engine's lane in one group commit,
 * keyed by the run's first id: one LMDB put per commit instead of one per transfer (a put costs
 * ~2-3 µs of CPU here, more than the lane's own work). Layout: u8 version, u32 count, u32 entry
 * offsets x (count + 1) relative to the entries, then the entries: the id (u16 length + bytes)
 * followed by its record (writeTransferRecord's bytes, written by ValueArena.plainEntry). The
 * ids ascend (each was above every id before it), and runs never overlap, so a lookup finds the
 * greatest run key <= id and binary-searches the offsets without decoding the value.
 */
export function encodePlainRun(
  input: TransferColumnsReader,
  columns: ArrayLike<number>,
  offsets: ArrayLike<number>,
  base: bigint,
): Buffer {
  const count = columns.length;
  const arena = new ValueArena(Math.max(4096, plainRunBytes(count)));
  return writePlainRun(arena, input, { columns, offsets, order: null, from: 0, to: count }, base);
}

/** About how many bytes a plain run of `count` transfers takes (room to reserve). */
export function plainRunBytes(count: number): number {
  return PLAIN_RUN_HEADER_BYTES + 4 * (count + 1) + count * 96;
}

/** Which transfers a plain run holds: positions `from` to `to` (excluded) of `order` (or of
 * the columns themselves when null), each naming a transfer by its batch column and timestamp
 * offset. */
export interface PlainRunEntries {
  readonly columns: ArrayLike<number>;
  readonly offsets: ArrayLike<number>;
  readonly order: ArrayLike<number> | null;
  readonly from: number;
  readonly to: number;
}

/** Writes the plain run of `entries` into `arena` (encodePlainRun's layout) and returns it as a
 * view of the arena's buffer: several runs can share one arena, each value its own range. */
export function writePlainRun(
  arena: ValueArena,
  input: TransferColumnsReader,
  selection: PlainRunEntries,
  base: bigint,
): Buffer {
  const { columns, offsets, order, from, to } = selection;
  const count = to - from;
  assert(
    count > 0 && to <= offsets.length && offsets.length === columns.length,
    'a plain run has transfers',
  );
  const entries = PLAIN_RUN_HEADER_BYTES + 4 * (count + 1);
  // Header first (filled in at the end), no concatenation.
  arena.leaveRoom(entries);
  const entryOffsets = new Uint32Array(count + 1);
  // base + offset as i64 parts (high, low) without a bigint per entry.
  const { high, low } = timestampParts(base);
  const { ids, debits, credits } = input;
  const sameCurrency = input.sameCurrency;
  const currencies = sameCurrency === null ? input.currencies : null;
  const amounts = input.columns.amounts;
  for (let at = 0; at < count; at += 1) {
    const position = order === null ? from + at : (order[from + at] as number);
    const column = columns[position] as number;
    entryOffsets[at] = arena.pendingBytes - entries;
    const sum = low + (offsets[position] as number);
    const carry = Math.floor(sum / TWO_32);
    arena.plainEntry(
      ids[column] as string,
      high + carry,
      sum - carry * TWO_32,
      amounts[column] as number,
      debits[column] as string,
      credits[column] as string,
      sameCurrency ?? ((currencies as string[])[column] as string),
    );
  }
  return endPlainRun(arena, entryOffsets, entries);
}

/** Writes records `from` to `to` (excluded) of `records` (ids ascending, each once) as a plain
 * run's value (encodePlainRun's layout: each entry the id, then writeTransferRecord's bytes) into
 * `arena`, and returns it as a view of the arena's buffer, as writePlainRun does. */
export function writeRecordRun(
  arena: ValueArena,
  records: readonly TransferRecord[],
  from: number,
  to: number,
): Buffer {
  const count = to - from;
  assert(count > 0, 'a plain run has transfers');
  const entries = PLAIN_RUN_HEADER_BYTES + 4 * (count + 1);
  arena.leaveRoom(entries);
  const entryOffsets = new Uint32Array(count + 1);
  for (let at = 0; at < count; at += 1) {
    const record = records[from + at] as TransferRecord;
    assert(at === 0 || (records[from + at - 1] as TransferRecord).id < record.id, 'ids ascend');
    entryOffsets[at] = arena.pendingBytes - entries;
    arena.string(record.id);
    writeTransferRecord(arena, record);
  }
  return endPlainRun(arena, entryOffsets, entries);
}

/** Ends a plain run written into `arena` after leaveRoom(entries), its entries' offsets in
 * `entryOffsets` but the last: the end offset, the header, and the value as a view. */
function endPlainRun(arena: ValueArena, entryOffsets: Uint32Array, entries: number): Buffer {
  const count = entryOffsets.length - 1;
  entryOffsets[count] = arena.pendingBytes - entries;
  arena.setU8(0, PLAIN_RUN_VERSION);
  arena.setU32(1, count);
  for (let at = 0; at <= count; at += 1)
    arena.setU32(PLAIN_RUN_HEADER_BYTES + 4 * at, entryOffsets[at] as number);
  return arena.takeView();
}

function plainRunView(value: Uint8Array): { view: Buffer; count: number; entries: number } {
  const view = bufferView(value);
  if (view.length < PLAIN_RUN_HEADER_BYTES || view.readUInt8(0) !== PLAIN_RUN_VERSION) {
    throw new LedgerError('STORAGE_CORRUPT', { reason: 'unknown plain-run version' });
  }
  const count = view.readUInt32LE(1);
  return { view, count, entries: PLAIN_RUN_HEADER_BYTES + 4 * (count + 1) };
}

/** How many transfers a plain run's value holds. */
export function plainRunCount(value: Uint8Array): number {
  return plainRunView(value).count;
}

/** Where entry `at`'s id bytes start in a plain run's view (after the id's u16 length). */
function idStartOf(view: Buffer, entries: number, at: number): number {
  return entries + view.readUInt32LE(PLAIN_RUN_HEADER_BYTES + 4 * at) + 2;
}

/** Where the id whose bytes start at `start` ends. */
function idEndOf(view: Buffer, start: number): number {
  return start + view.readUInt16LE(start - 2);
}

function plainRunId(view: Buffer, entries: number, at: number): { id: string; end: number } {
  const start = idStartOf(view, entries, at);
  const end = idEndOf(view, start);
  return { id: view.toString('utf8', start, end), end };
}

/** The record of `id` in a plain run's value, if the run holds it: a binary search that compares
 * `id` with the entries' id bytes in place (compareIdWithBytes), decoding no id. */
export function findInPlainRun(value: Uint8Array, id: string): TransferRecord | undefined {
  const { view, count, entries } = plainRunView(value);
  let low = 0;
  let high = count - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const start = idStartOf(view, entries, middle);
    const idEnd = idEndOf(view, start);
    const order = compareIdWithBytes(id, view, start, idEnd);
    if (order === 0) {
      const end = entries + view.readUInt32LE(PLAIN_RUN_HEADER_BYTES + 4 * (middle + 1));
      return decodeTransferRecord(id, view.subarray(idEnd, end));
    }
    if (order > 0) low = middle + 1;
    else high = middle - 1;
  }
  return undefined;
}

/** Compares `id` with the id held as UTF-8 bytes `start` to `end` of `view`, in JavaScript's
 * string order: negative, 0 or positive. While both are ASCII, unit by unit; where either is not,
 * the bytes are decoded and compared as a string (as compareIdBytes does). */
export function compareIdWithBytes(id: string, view: Buffer, start: number, end: number): number {
  const bytes = end - start;
  const length = Math.min(id.length, bytes);
  for (let at = 0; at < length; at += 1) {
    const unit = id.charCodeAt(at);
    const byte = view[start + at] as number;
    if (unit >= 0x80 || byte >= 0x80) {
      const stored = view.toString('utf8', start, end);
      return id === stored ? 0 : id < stored ? -1 : 1;
    }
    if (unit !== byte) return unit - byte;
  }
  // Equal and ASCII as far as the shorter goes: the shorter is a prefix of the longer (the
  // stored bytes left over make at least one more unit).
  return id.length - bytes;
}

/** Every id of a plain run's value, in order. */
export function idsOfPlainRun(value: Uint8Array): string[] {
  const { view, count, entries } = plainRunView(value);
  const ids = new Array<string>(count);
  for (let at = 0; at < count; at += 1) ids[at] = plainRunId(view, entries, at).id;
  return ids;
}

/** The greatest id of a plain run's value. */
export function lastIdOfPlainRun(value: Uint8Array): string {
  const { view, count, entries } = plainRunView(value);
  assert(count > 0, 'a plain run has transfers');
  return plainRunId(view, entries, count - 1).id;
}

/** Reads a plain run's value entry by entry, in id order, without decoding records or ids:
 * what a merge of runs copies from. The current entry's id is its bytes `idStart` to `idEnd` of
 * `view` (compareIdBytes orders them), decoded only when asked for (`id`). */
export class PlainRunCursor {
  readonly view: Buffer;
  private readonly entries: number;
  readonly count: number;
  private at = 0;
  /** Where the current entry's id bytes start in `view`; -1 past the end. */
  idStart = -1;
  idEnd = 0;
  constructor(value: Uint8Array) {
    const { view, count, entries } = plainRunView(value);
    this.view = view;
    this.count = count;
    this.entries = entries;
    if (count > 0) this.locate();
  }
  /** Whether every entry is taken. */
  get done(): boolean {
    return this.idStart === -1;
  }
  /** The current entry's id; null past the end. */
  get id(): string | null {
    return this.idStart === -1 ? null : this.view.toString('utf8', this.idStart, this.idEnd);
  }
  private locate(): void {
    this.idStart = idStartOf(this.view, this.entries, this.at);
    this.idEnd = idEndOf(this.view, this.idStart);
  }
  /** Appends the current entry's bytes (its id and record) to `out` and moves to the next. */
  copyTo(out: PlainRunBuilder): void {
    assert(this.idStart !== -1, 'a cursor copies an entry it is on');
    const end = this.entries + this.view.readUInt32LE(PLAIN_RUN_HEADER_BYTES + 4 * (this.at + 1));
    out.add(this.view, this.idStart - 2, end);
    this.at += 1;
    if (this.at < this.count) this.locate();
    else this.idStart = -1;
  }
}

/** Compares two ids held as UTF-8 bytes (`a` from `aStart` to `aEnd`, `b` likewise) in
 * JavaScript's string order, the order runs are sorted and searched in: negative, 0 or positive.
 * Byte by byte: up to the first difference the two agree in every order, and where both bytes
 * there are ASCII, so do the orders. Where either is not, UTF-8's order (code points) can differ
 * from JavaScript's (UTF-16 code units), so the ids are decoded and compared as strings. */
export function compareIdBytes(
  a: Buffer,
  aStart: number,
  aEnd: number,
  b: Buffer,
  bStart: number,
  bEnd: number,
): number {
  const length = Math.min(aEnd - aStart, bEnd - bStart);
  for (let at = 0; at < length; at += 1) {
    const x = a[aStart + at] as number;
    const y = b[bStart + at] as number;
    if (x === y) continue;
    if (x < 0x80 && y < 0x80) return x - y;
    const left = a.toString('utf8', aStart, aEnd);
    const right = b.toString('utf8', bStart, bEnd);
    return left < right ? -1 : 1;
  }
  return aEnd - aStart - (bEnd - bStart);
}

/** Builds plain runs' values from entries copied in id order (PlainRunCursor.copyTo): each
 * entry's bytes are copied at once (so its source buffer may be reused), into a scratch buffer
 * kept from one value to the next. */
export class PlainRunBuilder {
  private scratch = Buffer.allocUnsafeSlow(1 << 14);
  private readonly offsets: number[] = [];
  private bytes = 0;
  get count(): number {
    return this.offsets.length;
  }
  /** The id of the first entry added since the last build (one was). */
  get firstId(): string {
    assert(this.offsets.length > 0, 'a plain run has transfers');
    return this.scratch.toString('utf8', 2, 2 + this.scratch.readUInt16LE(0));
  }
  /** Adds the entry (u16 id length, id, record) that is bytes `start` to `end` of `source`. */
  add(source: Buffer, start: number, end: number): void {
    const length = end - start;
    if (this.bytes + length > this.scratch.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(this.scratch.length * 2, this.bytes + length));
      this.scratch.copy(grown, 0, 0, this.bytes);
      this.scratch = grown;
    }
    this.offsets.push(this.bytes);
    // Buffer#copy: about 95 ns for an entry of 96 bytes here, against 150 for a byte loop.
    source.copy(this.scratch, this.bytes, start, end);
    this.bytes += length;
  }
  /** The value of the entries added since the last build, and starts the next one. */
  build(): Buffer {
    const count = this.offsets.length;
    assert(count > 0, 'a plain run has transfers');
    const entries = PLAIN_RUN_HEADER_BYTES + 4 * (count + 1);
    const out = Buffer.allocUnsafeSlow(entries + this.bytes);
    out.writeUInt8(PLAIN_RUN_VERSION, 0);
    out.writeUInt32LE(count, 1);
    for (let at = 0; at < count; at += 1)
      out.writeUInt32LE(this.offsets[at] as number, PLAIN_RUN_HEADER_BYTES + 4 * at);
    out.writeUInt32LE(this.bytes, PLAIN_RUN_HEADER_BYTES + 4 * count);
    this.scratch.copy(out, entries, 0, this.bytes);
    this.offsets.length = 0;
    this.bytes = 0;
    return out;
  }
}
