// The event log's records: one record per group commit, msgpackr (packr.ts), laid out by column.
// The hot event, TransferCreated, is stored as transfer columns (transfer-columns.ts) plus a
// Float64Array of timestamp offsets; saga events as tuples (saga-codec.ts); every other event
// whole, with its position. Measured here: msgpackr on an array of event objects costs ~1.4 us per
// event to pack, the columnar layout ~0.12 us. The bigint extension keeps amounts above 2^53
// exact at any size. Each record carries a checksum of its bytes (record-checksum.ts).

import { assert } from '../assert.js';
import { LedgerError } from '../errors.js';
import { SAFE_BIG } from '../limits.js';
import { storedScaleOf } from '../currency.js';
import type {
  AccountCreated,
  AccountSpec,
  LedgerEvent,
  TransferCreated,
  TransferSpec,
} from '../domain/types.js';
import { packr } from './packr.js';
import {
  CHECKSUM_PLACEHOLDER,
  checkChecksum,
  hasChecksum,
  sealChecksum,
} from './record-checksum.js';
import {
  isSagaEvent,
  sagaEventFromTuple,
  sagaEventToTuple,
  type SagaEvent,
  type SagaEventTuple,
} from './saga-codec.js';
import { writeSagaEvents } from './saga-writer.js';
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

/** A stored record. Version 5 is written: transfer columns nested, each column's text one string
 * or pieces (column-text.ts), saga events as tuples (saga-codec.ts), and a checksum of the record
 * as its first field, `crc` (record-checksum.ts). Versions 4, 3 and 2 are read too: version 4 is
 * version 5 with every column one string; version 3 is version 4 without `crc`; version 2 is
 * version 3 without `sagas`, its saga events in `others`, whole. */
interface ColumnarRecord {
  readonly crc?: number;
  readonly v: 2 | 3 | 4 | 5;
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
    else if (this.builder === null && this.isNextInputColumn(event.transfer)) {
      // A transfer the lane handed to the general path (a filter's false positive: its id was
      // new after all) that is the next input column as it is: the run of input columns goes on.
      this.setOffset(this.inputCount, Number(offset));
      this.inputCount += 1;
    } else {
      const builder = this.ensureBuilder();
      this.setOffset(builder.add(event.transfer), Number(offset));
    }
    this.count += 1;
  }

  /** Whether `transfer` is input column inputCount exactly as the columns hold it: plain (no
   * pending flag, no metadata, an amount below 2^53) with the same id, accounts, currency and
   * amount, so that the columns written either way are the same. */
  private isNextInputColumn(transfer: TransferSpec): boolean {
    const input = this.input;
    const column = this.inputCount;
    return (
      input !== null &&
      column < input.count &&
      input.isPlain(column) &&
      !transfer.pending &&
      transfer.metadata === null &&
      transfer.amount <= SAFE_BIG &&
      transfer.id === input.ids[column] &&
      transfer.debitAccountId === input.debits[column] &&
      transfer.creditAccountId === input.credits[column] &&
      transfer.currency === input.currencies[column] &&
      Number(transfer.amount) === input.columns.amounts[column]
    );
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
      v: 5,
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
  const reader = readEventRecord(buffer);
  const events: LedgerEvent[] = new Array(reader.count);
  for (let index = 0; index < reader.count; index += 1) events[index] = reader.event(index);
  return { first: reader.first, events };
}

/** A decoded record whose events are built one at a time, when asked for: a reader that walks a
 * record (the change feed) makes each event as it hands it out, so the events die young instead
 * of a whole record's living through a collection. */
export class EventRecordReader {
  /** The sequence of the record's first event. */
  readonly first: number;
  /** Its events: first .. first + count - 1. */
  readonly count: number;
  readonly #base: bigint;
  readonly #offsets: Float64Array;
  /** Per event, its transfer column, or -1 for an event stored whole (in #stored). */
  readonly #columns: Int32Array;
  readonly #stored: (LedgerEvent | undefined)[];
  readonly #transfers: TransferColumnsReader;

  constructor(record: ColumnarRecord) {
    this.first = record.first;
    this.count = record.count;
    this.#base = record.base;
    this.#offsets = record.offsets;
    const stored: (LedgerEvent | undefined)[] = new Array(record.count);
    for (const [index, event] of record.others)
      stored[index] = event.type === 'AccountCreated' ? withScale(event) : event;
    if (record.sagas !== undefined)
      for (const [index, tuple] of record.sagas)
        stored[index] = sagaEventFromTuple(tuple, record.base);
    this.#stored = stored;
    this.#transfers = new TransferColumnsReader(record.transfers);
    const columns = new Int32Array(record.count);
    let column = 0;
    for (let index = 0; index < record.count; index += 1) {
      if (stored[index] !== undefined) columns[index] = -1;
      else {
        columns[index] = column;
        column += 1;
      }
    }
    assert(column === this.#transfers.count, 'every column used');
    this.#columns = columns;
  }

  /** The event at `index` (0 .. count - 1): a new object on each call for a transfer. */
  event(index: number): LedgerEvent {
    const column = this.#columns[index] as number;
    if (column < 0) return this.#stored[index] as LedgerEvent;
    const event: TransferCreated = {
      type: 'TransferCreated',
      timestamp: this.#base + BigInt(this.#offsets[column] as number),
      transfer: this.#transfers.specInOrder(column),
    };
    return event;
  }
}

/** A log record's bytes, checked and decoded, its events built when asked for. */
export function readEventRecord(buffer: Uint8Array): EventRecordReader {
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
    (record.v !== 2 && record.v !== 3 && record.v !== 4 && record.v !== 5) ||
    typeof record.first !== 'number'
  ) {
    throw new LedgerError('STORAGE_CORRUPT', {
      reason: 'unknown event record version',
      version: String(record?.v),
    });
  }
  // A record of version 4 or later whose checksum field is gone was changed: it is not read
  // unchecked.
  if (record.v >= 4 && !hasChecksum(buffer))
    throw new LedgerError('STORAGE_CORRUPT', { problem: 'log record lost its checksum' });
  return new EventRecordReader(record);
}

/** An AccountCreated as stored: accounts created before they recorded their scale take it from
 * their code (storedScaleOf), so older logs decode to the same accounts as before. */
function withScale(event: AccountCreated): AccountCreated {
  const account = event.account as Omit<AccountSpec, 'scale'> & { readonly scale?: number };
  if (account.scale !== undefined) return event;
  return { ...event, account: { ...account, scale: storedScaleOf(account.currency) } };
}

/** The key of a timestamp in the log's time index (meta 't' + key -> the first sequence of the
 * record that starts at it): fixed-width decimal strings sort like the numbers they hold. */
export function timestampKey(timestamp: bigint): string {
  return timestamp.toString().padStart(24, '0');
}
