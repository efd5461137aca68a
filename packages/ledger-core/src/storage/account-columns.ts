// A snapshot's accounts laid out by column, one slice of consecutive ordinals at a time (the
// account slices of snapshot-cut.ts). The counters go as the bytes of the cut's counter rows,
// the ids and currencies as column text (column-text.ts), scales, flags and timestamps as typed
// arrays, and only the few accounts with metadata or counters beyond 2^53 one by one. An account
// record per account, packed by msgpackr, cost about 2.5 µs here: with a million accounts a
// snapshot took 2.5 s of the shard's time, every million events. Typed arrays travel as plain
// bytes (the snapshot packr keeps no typed-array types), so decoding copies them into aligned
// arrays.

import { assert } from '../assert.js';
import { COUNTER_ROW_SHIFT, COUNTER_ROWS_PER_CHUNK } from '../domain/balance.js';
import type { AccountState } from '../domain/state.js';
import type { Metadata } from '../domain/types.js';
import { joinColumn, splitColumn, type ColumnText } from './column-text.js';
import type { AccountPayload } from './snapshot-store.js';

/** Accounts per slice: one chunk of counter rows, so a slice's counters are one range of it. */
export const accountsPerColumnSlice = COUNTER_ROWS_PER_CHUNK;

/** One slice of accounts, ordinals `first` .. first + count - 1. */
export interface AccountColumns {
  readonly first: number;
  readonly count: number;
  readonly ids: ColumnText;
  readonly currencies: ColumnText;
  /** One byte per account. */
  readonly scales: Uint8Array;
  /** The bytes of a Uint32Array, one per account. */
  readonly flags: Uint8Array;
  /** The bytes of a BigUint64Array of creation timestamps, one per account. */
  readonly timestamps: Uint8Array;
  /** The bytes of a Float64Array, the four counters per account (balance.ts): a wide account's
   * row holds Infinity, and its counters are in `wide`. */
  readonly counters: Uint8Array;
  readonly wide: [number, readonly bigint[]][];
  readonly metadata: [number, Metadata][];
}

/** The bytes of `array` (a view, no copy): how a typed array goes into a snapshot. */
export function bytesOf(array: ArrayBufferView): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/** The slice of `accounts` (ordinal order, ordinals first .. first + accounts.length - 1) with
 * the counters of the cut's `rows` and its `wide` counters. */
export function accountColumns(
  accounts: readonly AccountState[],
  first: number,
  rows: readonly Float64Array[],
  wide: ReadonlyMap<number, readonly bigint[]>,
): AccountColumns {
  const count = accounts.length;
  const at = first & (COUNTER_ROWS_PER_CHUNK - 1);
  assert(count > 0 && at + count <= COUNTER_ROWS_PER_CHUNK, 'a slice lies in one chunk of rows');
  const chunk = rows[first >>> COUNTER_ROW_SHIFT];
  assert(chunk !== undefined, "a slice's counters are in the rows");
  const ids = new Array<string>(count);
  const currencies = new Array<string>(count);
  const scales = new Uint8Array(count);
  const flags = new Uint32Array(count);
  const timestamps = new BigUint64Array(count);
  const wideOf: [number, readonly bigint[]][] = [];
  const metadata: [number, Metadata][] = [];
  for (let index = 0; index < count; index += 1) {
    const account = accounts[index] as AccountState;
    assert(account.ordinal === first + index, 'accounts in ordinal order');
    ids[index] = account.id;
    currencies[index] = account.currency;
    scales[index] = account.scale;
    flags[index] = account.flags;
    timestamps[index] = account.timestamp;
    if (account.metadata !== null) metadata.push([index, account.metadata]);
    const counters = wide.get(first + index);
    if (counters !== undefined) wideOf.push([index, counters]);
  }
  return {
    first,
    count,
    ids: joinColumn(ids),
    currencies: joinColumn(currencies),
    scales,
    flags: bytesOf(flags),
    timestamps: bytesOf(timestamps),
    counters: bytesOf(chunk.subarray(4 * at, 4 * (at + count))),
    wide: wideOf,
    metadata,
  };
}

/** `bytes` copied into a new, aligned array of `count` elements of `Type`: how a typed array
 * comes out of a snapshot (its bytes may start at any offset of the file's buffer). */
export function aligned<T>(
  bytes: unknown,
  count: number,
  width: number,
  Type: new (buffer: ArrayBuffer) => T,
): T {
  assert(bytes instanceof Uint8Array && bytes.byteLength === count * width, 'column bytes');
  return new Type(new Uint8Array(bytes).buffer);
}

/** The accounts of a slice, as account payloads; `first` is the ordinal the slice must start at. */
export function accountsOfColumns(columns: AccountColumns, first: number): AccountPayload[] {
  const { count } = columns;
  assert(columns.first === first && Number.isSafeInteger(count) && count > 0, 'slice in order');
  const ids = splitColumn(columns.ids, count);
  const currencies = splitColumn(columns.currencies, count);
  const scales = aligned(columns.scales, count, 1, Uint8Array);
  const flags = aligned(columns.flags, count, 4, Uint32Array);
  const timestamps = aligned(columns.timestamps, count, 8, BigUint64Array);
  const counters = aligned(columns.counters, count, 32, Float64Array);
  const wide = new Map(columns.wide);
  const metadata = new Map(columns.metadata);
  const accounts = new Array<AccountPayload>(count);
  for (let index = 0; index < count; index += 1) {
    const at = 4 * index;
    accounts[index] = {
      id: ids[index] as string,
      currency: currencies[index] as string,
      scale: scales[index] as number,
      flags: flags[index] as number,
      metadata: metadata.get(index) ?? null,
      ordinal: first + index,
      timestamp: timestamps[index] as bigint,
      counters: {
        small: [
          counters[at] as number,
          counters[at + 1] as number,
          counters[at + 2] as number,
          counters[at + 3] as number,
        ],
        wide: wide.get(index) ?? null,
      },
    };
  }
  return accounts;
}
