// Encodings at the storage boundary.
//
// Event records (one per group commit) are msgpackr, laid out by column: the hot event,
// TransferCreated, is stored as transfer columns (transfer-columns.ts) plus a Float64Array of
// timestamp offsets; every other event is stored whole, with its position. Measured here:
// msgpackr on an array of event objects costs ~1.4 us per event to pack, the columnar layout
// ~0.12 us. The bigint extension keeps amounts above 2^53 exact at any size.
//
// Index values (transfer records, history entries) are small fixed layouts written with Buffer
// methods: msgpackr costs ~0.9 µs per 13-field row, and they are written once per transfer.

import { Packr } from 'msgpackr';
import { assert } from '../assert.js';
import { LedgerError } from '../errors.js';
import type { Counters } from '../domain/balance.js';
import type { LedgerEvent, Metadata, TransferCreated, TransferRecord } from '../domain/types.js';
import {
  isSagaEvent,
  sagaEventFromTuple,
  sagaEventToTuple,
  writeSagaEvents,
  type SagaEvent,
  type SagaEventTuple,
} from './saga-codec.js';
import { bufferView, searchAscending } from './sorted-ids.js';
import {
  CHECKSUM_PLACEHOLDER,
  checkChecksum,
  hasChecksum,
  sealChecksum,
} from './record-checksum.js';
import {
  TransferColumnsBuilder,
  TransferColumnsReader,
  type TransferColumns,
} from './transfer-columns.js';

/** One group commit: the events with sequence numbers first .. first + events.length - 1. */
export interface EventRecord {
  readonly first: number;
  readonly events: readonly LedgerEvent[];
}

/** Version 4 (written): version 3 with a checksum of the record as its first field, `crc`
 * (record-checksum.ts). Version 3 (still read): transfer columns nested, saga events as tuples
 * (saga-codec.ts). Version 2 (still read): the same without `sagas`; saga events were in
 * `others`, whole. */
interface ColumnarRecord {
  readonly crc?: number;
  readonly v: 2 | 3 | 4;
  readonly first: number;
  readonly count: number;
  /** Base timestamp; TransferCreated timestamps are base + offset (offsets < 2^53 ns). */
  readonly base: bigint;
  readonly transfers: TransferColumns;
  readonly offsets: Float64Array;
  /** Other events, with their position in the record. */
  readonly others: [number, LedgerEvent][];
  /** Saga events as tuples, with their position in the record (version 3). */
  readonly sagas?: [number, SagaEventTuple][];
}

const packr = new Packr({
  useRecords: false,
  useBigIntExtension: true,
  moreTypes: true,
  structuredClone: false,
});
const SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);

export function encodeEventRecord(record: EventRecord): Buffer {
  const events = record.events;
  assert(events.length > 0, 'empty event record');
  const builder = new EventRecordBuilder(
    record.first,
    (events[0] as LedgerEvent).timestamp,
    null,
    events.length,
  );
  for (const event of events) builder.addEvent(event);
  return builder.encode();
}

/** Builds the record encodeEventRecord would write, event by event, for the engine's plain-
 * transfer lane: plain transfers go in from the submitted batch's columns without an event
 * object. While they are exactly the batch's columns 0, 1, 2, ... (the common case: every
 * transfer of the batch accepted, nothing else), the batch's joined columns are reused as they
 * are; the first event that breaks the run copies what came before into a builder. */
export class EventRecordBuilder {
  private readonly first: number;
  private readonly base: bigint;
  private readonly input: TransferColumnsReader | null;
  /** Input columns 0 .. inputCount-1 were added in order, and nothing else yet. */
  private inputCount = 0;
  private builder: TransferColumnsBuilder | null = null;
  private offsets: Float64Array;
  private readonly others: [number, LedgerEvent][] = [];
  /** Saga events (timestamps within a safe offset of base) and their positions: `sagas` of the
   * record, as tuples, written at encode(). */
  private readonly sagaEvents: SagaEvent[] = [];
  private readonly sagaPositions: number[] = [];
  private count = 0;

  constructor(first: number, base: bigint, input: TransferColumnsReader | null, capacity: number) {
    this.first = first;
    this.base = base;
    this.input = input;
    this.offsets = new Float64Array(Math.max(capacity, 1));
  }

  get eventCount(): number {
    return this.count;
  }

  private ensureBuilder(): TransferColumnsBuilder {
    if (this.builder !== null) return this.builder;
    const builder = new TransferColumnsBuilder(Math.max(this.offsets.length, this.inputCount));
    for (let column = 0; column < this.inputCount; column += 1)
      this.copyInputColumn(builder, column);
    this.builder = builder;
    return builder;
  }

  /** Adds input column `column` to `builder`; returns its column there. */
  private copyInputColumn(builder: TransferColumnsBuilder, column: number): number {
    const input = this.input;
    assert(input !== null, 'input columns');
    return builder.addPlain(
      input.ids[column] as string,
      input.debits[column] as string,
      input.credits[column] as string,
      input.currencies[column] as string,
      input.columns.amounts[column] as number,
    );
  }

  private setOffset(column: number, offset: number): void {
    if (column === this.offsets.length) {
      const grown = new Float64Array(this.offsets.length * 2);
      grown.set(this.offsets);
      this.offsets = grown;
    }
    this.offsets[column] = offset;
  }

  /** A plain TransferCreated (see TransferColumnsReader.isPlain) from input column `column`,
   * with timestamp base + offset. */
  addInputTransfer(column: number, offset: number): void {
    if (this.builder === null && column === this.inputCount) {
      this.setOffset(column, offset);
      this.inputCount += 1;
    } else {
      this.setOffset(this.copyInputColumn(this.ensureBuilder(), column), offset);
    }
    this.count += 1;
  }

  /** Any event, as encodeEventRecord lays it out. */
  addEvent(event: LedgerEvent): void {
    const offset = event.timestamp - this.base;
    assert(offset >= 0n, 'event timestamps at or after the record base');
    if (offset <= SAFE_BIG && isSagaEvent(event)) {
      this.sagaEvents.push(event);
      this.sagaPositions.push(this.count);
    } else if (event.type !== 'TransferCreated' || offset > SAFE_BIG)
      this.others.push([this.count, event]);
    else {
      const builder = this.ensureBuilder();
      this.setOffset(builder.add(event.transfer), Number(offset));
    }
    this.count += 1;
  }

  /** The record as stored: its msgpack bytes, their checksum filled in (record-checksum.ts). */
  encode(): Buffer {
    return sealChecksum(this.encodePayload());
  }

  private encodePayload(): Buffer {
    assert(this.count > 0, 'empty event record');
    let transfers: TransferColumns;
    let transferCount: number;
    if (this.builder === null) {
      const input = this.input;
      transferCount = this.inputCount;
      if (input !== null && transferCount === input.count)
        transfers = { ...input.columns, bigAmounts: null, extras: null };
      else transfers = this.ensureBuilder().build();
    } else {
      transfers = this.builder.build();
      transferCount = this.builder.count;
    }
    const columnar: ColumnarRecord = {
      // First: sealChecksum fills it in over every byte after it.
      crc: CHECKSUM_PLACEHOLDER,
      v: 4,
      first: this.first,
      count: this.count,
      base: this.base,
      transfers,
      offsets: this.offsets.subarray(0, transferCount),
      others: this.others,
      // Last: its bytes end the record, so writeSagaEvents can append them to the rest.
      sagas: [],
    };
    const events = this.sagaEvents;
    const packed = packr.pack(columnar);
    if (events.length === 0) return packed;
    // msgpackr wrote `sagas` as an empty array (0x90), the record's last byte: the same bytes
    // with the saga tuples in that array instead.
    assert(packed[packed.length - 1] === 0x90, 'an event record ends with its sagas array');
    const written = writeSagaEvents(
      packed.subarray(0, packed.length - 1),
      this.sagaPositions,
      events,
      this.base,
    );
    if (written !== null) return written;
    const sagas: [number, SagaEventTuple][] = events.map((event, index) => [
      this.sagaPositions[index] as number,
      sagaEventToTuple(event, this.base),
    ]);
    return packr.pack({ ...columnar, sagas });
  }
}

/** Decodes a stored record; STORAGE_CORRUPT when its checksum or its layout is wrong. */
export function decodeEventRecord(buffer: Uint8Array): EventRecord {
  let record: ColumnarRecord | null;
  try {
    checkChecksum(buffer);
    record = packr.unpack(buffer) as ColumnarRecord | null;
  } catch (error) {
    if (error instanceof LedgerError) throw error;
    throw new LedgerError('STORAGE_CORRUPT', {
      problem: `log record is not msgpack: ${String((error as Error).message)}`,
    });
  }
  if (
    record === null ||
    typeof record !== 'object' ||
    (record.v !== 2 && record.v !== 3 && record.v !== 4) ||
    typeof record.first !== 'number'
  ) {
    throw new LedgerError('STORAGE_CORRUPT', {
      reason: 'unknown event record version',
      version: String(record?.v),
    });
  }
  // A version 4 record whose checksum field is gone was changed: it is not read unchecked.
  if (record.v === 4 && !hasChecksum(buffer))
    throw new LedgerError('STORAGE_CORRUPT', { problem: 'log record lost its checksum' });
  const events: LedgerEvent[] = new Array(record.count);
  for (const [index, event] of record.others) events[index] = event;
  if (record.sagas !== undefined)
    for (const [index, tuple] of record.sagas)
      events[index] = sagaEventFromTuple(tuple, record.base);
  const transfers = new TransferColumnsReader(record.transfers);
  let column = 0;
  for (let index = 0; index < record.count; index += 1) {
    if (events[index] !== undefined) continue;
    const event: TransferCreated = {
      type: 'TransferCreated',
      timestamp: record.base + BigInt(record.offsets[column] as number),
      transfer: transfers.spec(column),
    };
    events[index] = event;
    column += 1;
  }
  assert(column === transfers.count, 'every column used');
  return { first: record.first, events };
}

// ---- small binary layouts ------------------------------------------------------------------

const kinds = ['transfer', 'post', 'void'] as const;
const states = ['posted', 'pending', 'voided', 'expired', 'reserved', 'released'] as const;
const HAS_METADATA = 1;
const HAS_PENDING_ID = 2;
const HAS_POSTED_AMOUNT = 4;
const HAS_SAGA_ID = 8;

/** Writes small values back to back into one large buffer per group commit. lmdb-js keeps a
 * pointer to a value's bytes (and a reference to its buffer) until the write commits, and honours
 * `start`/`end` on a Buffer, so every value of a batch shares one allocation: `take()` returns the
 * arena's buffer marked with the value's range, valid until the next call. */
export class ValueArena {
  private buffer: Buffer & { start?: number; end?: number; address?: number };
  private view: DataView;
  private offset = 0;
  private mark = 0;
  constructor(sizeBytes = 1 << 20) {
    // allocUnsafeSlow: not from the shared pool, so byteOffset is 0 as lmdb-js' start/end expects.
    this.buffer = Buffer.allocUnsafeSlow(sizeBytes);
    this.view = new DataView(this.buffer.buffer, 0, this.buffer.length);
  }
  private reserve(bytes: number): void {
    if (this.offset + bytes <= this.buffer.length) return;
    // Start a new buffer; the old one stays referenced by the writes that point into it.
    const pending = this.buffer.subarray(this.mark, this.offset);
    const grown = Buffer.allocUnsafeSlow(
      Math.max(this.buffer.length * 2, (this.offset - this.mark + bytes) * 2),
    );
    pending.copy(grown, 0);
    this.buffer = grown;
    this.view = new DataView(grown.buffer, 0, grown.length);
    this.offset -= this.mark;
    this.mark = 0;
  }
  u8(value: number): void {
    this.reserve(1);
    this.buffer[this.offset] = value;
    this.offset += 1;
  }
  f64(value: number): void {
    this.reserve(8);
    this.view.setFloat64(this.offset, value, true);
    this.offset += 8;
  }
  /** Unsigned up to 2^128-1: a tag byte, then 8 bytes (f64, exact below 2^53) or 16 bytes. */
  u128(value: bigint): void {
    if (value <= SAFE_BIG) {
      this.u8(0);
      this.f64(Number(value));
      return;
    }
    this.u8(1);
    this.reserve(16);
    this.view.setBigUint64(this.offset, value & 0xffff_ffff_ffff_ffffn, true);
    this.view.setBigUint64(this.offset + 8, value >> 64n, true);
    this.offset += 16;
  }
  i64(value: bigint): void {
    this.reserve(8);
    this.view.setBigInt64(this.offset, value, true);
    this.offset += 8;
  }
  string(value: string): void {
    this.reserve(2 + value.length * 3);
    this.offset = this.putString(value, this.offset);
  }
  /** Writes u16 byte length + UTF-8 of `value` at `at` (space reserved); returns the end. */
  private putString(value: string, at: number): number {
    const length = value.length;
    const buffer = this.buffer;
    const start = at + 2;
    let ascii = true;
    // Ids are short and almost always ASCII: a byte loop beats the native utf8 write call.
    for (let index = 0; index < length; index += 1) {
      const unit = value.charCodeAt(index);
      if (unit > 0x7f) {
        ascii = false;
        break;
      }
      buffer[start + index] = unit;
    }
    const bytes = ascii ? length : buffer.write(value, start, 'utf8');
    buffer[at] = bytes & 0xff;
    buffer[at + 1] = bytes >>> 8;
    return start + bytes;
  }
  /** One plain-run entry (encodePlainRun): the id, then writeTransferRecord's bytes for a posted
   * transfer that is not pending and has no optional fields, from its fields (no record object),
   * with one bounds check for the whole entry instead of one per field. The timestamp is
   * high * 2^32 + low, so that no bigint is built per entry. */
  plainEntry(
    id: string,
    timestampHigh: number,
    timestampLow: number,
    amount: number,
    debitAccountId: string,
    creditAccountId: string,
    currency: string,
  ): void {
    this.reserve(
      35 + 3 * (id.length + debitAccountId.length + creditAccountId.length + currency.length),
    );
    const buffer = this.buffer;
    const view = this.view;
    let at = this.putString(id, this.offset);
    buffer[at] = 0; // kind 'transfer' (0), state 'posted' (0), not pending
    buffer[at + 1] = 0; // no optional fields
    view.setUint32(at + 2, timestampLow, true);
    view.setInt32(at + 6, timestampHigh, true);
    view.setFloat64(at + 10, 0, true); // timeoutMs
    buffer[at + 18] = 0; // u128 tag: exact f64
    view.setFloat64(at + 19, amount, true);
    at = this.putString(debitAccountId, at + 27);
    at = this.putString(creditAccountId, at);
    this.offset = this.putString(currency, at);
  }
  /** Leaves `bytes` bytes for a header that setU8 / setU32 fill in once the body is written. */
  leaveRoom(bytes: number): void {
    this.reserve(bytes);
    this.offset += bytes;
  }
  /** Writes a u8 at `at` bytes past the last take() (into space written or left by leaveRoom). */
  setU8(at: number, value: number): void {
    assert(this.mark + at + 1 <= this.offset, 'setU8 within the pending value');
    this.buffer[this.mark + at] = value;
  }
  /** Writes a u32 at `at` bytes past the last take() (into space written or left by leaveRoom). */
  setU32(at: number, value: number): void {
    assert(this.mark + at + 4 <= this.offset, 'setU32 within the pending value');
    this.view.setUint32(this.mark + at, value, true);
  }
  /** The value written since the last take(), as a view of the arena's buffer (no copy): the
   * arena must not be written again while the view is in use. */
  takeView(): Buffer {
    const view = this.buffer.subarray(this.mark, this.offset);
    this.mark = this.offset;
    return view;
  }
  /** The value written since the last take(), as the arena buffer with start/end set. */
  take(): Buffer {
    const buffer = this.buffer;
    buffer.start = this.mark;
    buffer.end = this.offset;
    this.mark = this.offset;
    return buffer;
  }
  /** Bytes written since the last take(). */
  get pendingBytes(): number {
    return this.offset - this.mark;
  }
  /** A standalone copy of the value written since the last take() (for tests and one-offs). */
  takeCopy(): Buffer {
    const copy = Buffer.from(this.buffer.subarray(this.mark, this.offset));
    this.mark = this.offset;
    return copy;
  }
}

class Reader {
  private readonly view: Buffer;
  private offset = 0;
  constructor(bytes: Uint8Array) {
    this.view = bufferView(bytes);
  }
  u8(): number {
    const value = this.view[this.offset] as number;
    this.offset += 1;
    return value;
  }
  f64(): number {
    const value = this.view.readDoubleLE(this.offset);
    this.offset += 8;
    return value;
  }
  u128(): bigint {
    if (this.u8() === 0) return BigInt(this.f64());
    const low = this.view.readBigUInt64LE(this.offset);
    const high = this.view.readBigUInt64LE(this.offset + 8);
    this.offset += 16;
    return (high << 64n) | low;
  }
  i64(): bigint {
    const value = this.view.readBigInt64LE(this.offset);
    this.offset += 8;
    return value;
  }
  string(): string {
    const bytes = this.view.readUInt16LE(this.offset);
    const value = this.view.toString('utf8', this.offset + 2, this.offset + 2 + bytes);
    this.offset += 2 + bytes;
    return value;
  }
}

/** Writes a transfer record into the arena (then call arena.take()). */
export function writeTransferRecord(arena: ValueArena, record: TransferRecord): void {
  let flags = 0;
  if (record.metadata !== null) flags |= HAS_METADATA;
  if (record.pendingId !== null) flags |= HAS_PENDING_ID;
  if (record.postedAmount !== null) flags |= HAS_POSTED_AMOUNT;
  if (record.sagaId !== null) flags |= HAS_SAGA_ID;
  arena.u8(
    kinds.indexOf(record.kind) | (states.indexOf(record.state) << 2) | (record.pending ? 0x80 : 0),
  );
  arena.u8(flags);
  arena.i64(record.timestamp);
  arena.f64(record.timeoutMs);
  arena.u128(record.amount);
  arena.string(record.debitAccountId);
  arena.string(record.creditAccountId);
  arena.string(record.currency);
  if (record.pendingId !== null) arena.string(record.pendingId);
  if (record.postedAmount !== null) arena.u128(record.postedAmount);
  if (record.sagaId !== null) arena.string(record.sagaId);
  if (record.metadata !== null) arena.string(JSON.stringify(record.metadata));
}

const TWO_32 = 2 ** 32;

// ---- runs of plain transfers -----------------------------------------------------------------

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
  columns: readonly number[],
  offsets: readonly number[],
  base: bigint,
): Buffer {
  const count = columns.length;
  assert(count > 0 && offsets.length === count, 'a plain run has transfers');
  const entries = PLAIN_RUN_HEADER_BYTES + 4 * (count + 1);
  // One buffer, header first (filled in at the end), no concatenation.
  const arena = new ValueArena(Math.max(4096, entries + count * 96));
  arena.leaveRoom(entries);
  const entryOffsets = new Uint32Array(count + 1);
  // base + offset as i64 parts (high, low) without a bigint per entry.
  assert(base >= 0n && base < 1n << 62n, 'timestamp base in range');
  const high = Number(base >> 32n);
  const low = Number(base & 0xffff_ffffn);
  const { ids, debits, credits } = input;
  const sameCurrency = input.sameCurrency;
  const currencies = sameCurrency === null ? input.currencies : null;
  const amounts = input.columns.amounts;
  for (let at = 0; at < count; at += 1) {
    const column = columns[at] as number;
    entryOffsets[at] = arena.pendingBytes - entries;
    const sum = low + (offsets[at] as number);
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

function plainRunId(view: Buffer, entries: number, at: number): { id: string; end: number } {
  const start = entries + view.readUInt32LE(PLAIN_RUN_HEADER_BYTES + 4 * at);
  const length = view.readUInt16LE(start);
  return { id: view.toString('utf8', start + 2, start + 2 + length), end: start + 2 + length };
}

/** The record of `id` in a plain run's value, if the run holds it. */
export function findInPlainRun(value: Uint8Array, id: string): TransferRecord | undefined {
  const { view, count, entries } = plainRunView(value);
  const at = searchAscending(count, (index) => plainRunId(view, entries, index).id, id);
  if (at === -1) return undefined;
  const start = plainRunId(view, entries, at).end;
  const end = entries + view.readUInt32LE(PLAIN_RUN_HEADER_BYTES + 4 * (at + 1));
  return decodeTransferRecord(id, view.subarray(start, end));
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

export function decodeTransferRecord(id: string, buffer: Uint8Array): TransferRecord {
  const reader = new Reader(buffer);
  const head = reader.u8();
  const flags = reader.u8();
  const timestamp = reader.i64();
  const timeoutMs = reader.f64();
  const amount = reader.u128();
  const debitAccountId = reader.string();
  const creditAccountId = reader.string();
  const currency = reader.string();
  const pendingId = (flags & HAS_PENDING_ID) !== 0 ? reader.string() : null;
  const postedAmount = (flags & HAS_POSTED_AMOUNT) !== 0 ? reader.u128() : null;
  const sagaId = (flags & HAS_SAGA_ID) !== 0 ? reader.string() : null;
  const metadata =
    (flags & HAS_METADATA) !== 0 ? (Object.freeze(JSON.parse(reader.string())) as Metadata) : null;
  const kind = kinds[head & 3];
  const state = states[(head >> 2) & 7];
  assert(kind !== undefined && state !== undefined, 'transfer record header');
  return {
    id,
    kind,
    debitAccountId,
    creditAccountId,
    amount,
    currency,
    pending: (head & 0x80) !== 0,
    timeoutMs,
    metadata,
    timestamp,
    pendingId,
    state,
    postedAmount,
    sagaId,
  };
}

export const eventTypeCodes = [
  'AccountCreated',
  'TransferCreated',
  'PendingTransferPosted',
  'PendingTransferVoided',
  'PendingTransferExpired',
  'FundsReserved',
  'ReservationCommitted',
  'ReservationReleased',
] as const satisfies readonly LedgerEvent['type'][];

/** A history entry: event type, timestamp, the account's counters after the posting, transfer id. */
export function writeHistoryEntry(
  arena: ValueArena,
  eventType: LedgerEvent['type'],
  transferId: string,
  timestamp: bigint,
  counters: Counters,
): void {
  arena.u8(eventTypeCodes.indexOf(eventType));
  arena.i64(timestamp);
  if (counters.wide === null) {
    arena.u8(0);
    for (let index = 0; index < 4; index += 1)
      arena.f64(counters.values[counters.at + index] as number);
  } else {
    arena.u8(1);
    for (let index = 0; index < 4; index += 1) arena.u128(counters.wide[index] as bigint);
  }
  arena.string(transferId);
}

/** A history entry: event type, timestamp, the account's counters after the posting, transfer id. */
export function encodeHistoryEntry(
  eventType: LedgerEvent['type'],
  transferId: string,
  timestamp: bigint,
  counters: Counters,
): Buffer {
  const arena = new ValueArena(128);
  writeHistoryEntry(arena, eventType, transferId, timestamp, counters);
  return arena.takeCopy();
}

export interface DecodedHistoryEntry {
  readonly eventType: LedgerEvent['type'];
  readonly transferId: string;
  readonly timestamp: bigint;
  readonly counters: readonly [bigint, bigint, bigint, bigint];
}

export function decodeHistoryEntry(buffer: Uint8Array): DecodedHistoryEntry {
  const reader = new Reader(buffer);
  const eventType = eventTypeCodes[reader.u8()];
  assert(eventType !== undefined, 'history entry type');
  const timestamp = reader.i64();
  const wide = reader.u8() === 1;
  const counter = (): bigint => (wide ? reader.u128() : BigInt(reader.f64()));
  const counters: [bigint, bigint, bigint, bigint] = [counter(), counter(), counter(), counter()];
  return { eventType, timestamp, counters, transferId: reader.string() };
}

/** Timestamps as keys: fixed-width decimal strings sort like the numbers they hold. */
export function timestampKey(timestamp: bigint): string {
  return timestamp.toString().padStart(24, '0');
}
