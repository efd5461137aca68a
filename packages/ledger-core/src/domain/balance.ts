// Four unsigned 128-bit counters per account with a float64 fast path.
//
// Why: a bigint add allocates, and a transfer touches two counters; at millions of transfers per
// second that allocation dominates. A double holds every integer below 2^53 exactly, so while all
// four counters stay below 2^53 we keep them as numbers; the first change that would reach 2^53
// moves that account to bigints for good ("wide" mode). This is the one file of domain/ allowed
// to use Number(): every conversion is guarded by a range check and is exact.

import { AMOUNT_MAX, SAFE_BIG } from '../limits.js';
import { assert } from '../assert.js';

export const DEBITS_POSTED = 0;
export const CREDITS_POSTED = 1;
export const DEBITS_PENDING = 2;
export const CREDITS_PENDING = 3;
export type CounterIndex = 0 | 1 | 2 | 3;

const SAFE = Number.MAX_SAFE_INTEGER;

export interface Counters {
  /** The four exact values are values[at .. at + 3]: for an account, its row in the state's
   * CounterRows (values is a shared chunk); otherwise a Float64Array(4) of its own, at 0.
   * Exact while `wide` is null; all four are Infinity once it is not (see widen). */
  readonly values: Float64Array;
  readonly at: number;
  /** Non-null once any counter reached 2^53. */
  wide: bigint[] | null;
}

/** Counters as plain data (snapshot payloads): the four exact values, or stale ones when wide. */
export interface CounterData {
  readonly small: readonly number[];
  readonly wide: readonly bigint[] | null;
}

export function newCounters(): Counters {
  return { values: new Float64Array(4), at: 0, wide: null };
}

export function copyCounters(counters: Counters): Counters {
  const values = new Float64Array(4);
  for (let index = 0; index < 4; index += 1)
    values[index] = counters.values[counters.at + index] as number;
  return { values, at: 0, wide: counters.wide === null ? null : counters.wide.slice() };
}

/** Counters as plain data (snapshot payloads keep this layout). */
export function counterData(counters: Counters): CounterData {
  const small: number[] = [];
  for (let index = 0; index < 4; index += 1)
    small.push(counters.values[counters.at + index] as number);
  return { small, wide: counters.wide === null ? null : counters.wide.slice() };
}

/** Standalone counters holding `data` (a wide one gets Infinity, whatever `small` said). */
export function countersFromData(data: CounterData): Counters {
  const counters = newCounters();
  fill(counters, data);
  return counters;
}

function fill(counters: Counters, data: CounterData): void {
  const wide = data.wide === null ? null : data.wide.slice();
  for (let index = 0; index < 4; index += 1)
    counters.values[counters.at + index] = wide === null ? (data.small[index] as number) : Infinity;
  counters.wide = wide;
}

export const COUNTER_ROW_SHIFT = 12;
/** Accounts per chunk of CounterRows (4,096 x 4 x 8 bytes = 128 KiB). */
export const COUNTER_ROWS_PER_CHUNK = 1 << COUNTER_ROW_SHIFT;

/**
 * The exact counters of every account of a state, four doubles per account ordinal, in chunks
 * that never move, so an account's Counters ({ values: chunk, at }) stay valid as the table
 * grows. Why: the plain-transfer kernel reads and writes an account's counters at
 * chunks[ordinal >> 12][(ordinal & 4095) * 4 + index], one memory access, instead of following
 * account -> counters -> array -> elements; at 10,000 random accounts those were cache misses.
 */
export class CounterRows {
  readonly chunks: Float64Array[] = [];

  /** New zeroed counters of account `ordinal`, in its row. */
  counters(ordinal: number): Counters {
    assert(Number.isSafeInteger(ordinal) && ordinal >= 0, 'account ordinal');
    const chunk = ordinal >>> COUNTER_ROW_SHIFT;
    while (this.chunks.length <= chunk)
      this.chunks.push(new Float64Array(4 * COUNTER_ROWS_PER_CHUNK));
    const values = this.chunks[chunk] as Float64Array;
    const at = 4 * (ordinal & (COUNTER_ROWS_PER_CHUNK - 1));
    values.fill(0, at, at + 4);
    return { values, at, wide: null };
  }

  /** Whether `counters` are the row of `ordinal` in this table. */
  holds(ordinal: number, counters: Counters): boolean {
    return (
      counters.values === this.chunks[ordinal >>> COUNTER_ROW_SHIFT] &&
      counters.at === 4 * (ordinal & (COUNTER_ROWS_PER_CHUNK - 1))
    );
  }

  /** Counters of account `ordinal` in this table, holding `data` (a copy). */
  home(ordinal: number, data: CounterData): Counters {
    const counters = this.counters(ordinal);
    fill(counters, data);
    return counters;
  }
}

export function readCounter(counters: Counters, index: CounterIndex): bigint {
  if (counters.wide !== null) return counters.wide[index] as bigint;
  return BigInt(counters.values[counters.at + index] as number);
}

function widen(counters: Counters): bigint[] {
  if (counters.wide === null) {
    const { values, at } = counters;
    const wide: bigint[] = [];
    for (let index = 0; index < 4; index += 1) wide.push(BigInt(values[at + index] as number));
    counters.wide = wide;
    // Infinity fails every "sum <= 2^53 - 1" check, so a kernel that reads only the values (the
    // plain-transfer lane) declines a wide account without looking at `wide`.
    for (let index = 0; index < 4; index += 1) values[at + index] = Infinity;
  }
  return counters.wide;
}

/** `amount` as an exact number, or -1 when it is 2^53 or more. Hot paths convert once per
 * transfer and pass the result on: every bigint comparison or conversion is a runtime call. */
export function toSmall(amount: bigint): number {
  return amount <= SAFE_BIG ? Number(amount) : -1;
}

export function addCounter(
  counters: Counters,
  index: CounterIndex,
  amount: bigint,
  small: number = toSmall(amount),
): void {
  if (counters.wide === null && small >= 0) {
    const sum = (counters.values[counters.at + index] as number) + small;
    if (sum <= SAFE) {
      counters.values[counters.at + index] = sum;
      return;
    }
  }
  // No upper bound here: per-currency totals may pass 2^128. Account counters are kept within
  // AMOUNT_MAX by decide (OVERFLOW) and re-checked by the audit after replay.
  const wide = widen(counters);
  wide[index] = (wide[index] as bigint) + amount;
}

export function subtractCounter(
  counters: Counters,
  index: CounterIndex,
  amount: bigint,
  small: number = toSmall(amount),
): void {
  if (counters.wide === null) {
    // amount <= counter < 2^53 whenever the subtraction is legal.
    assert(small >= 0, 'subtract more than a small counter holds');
    const difference = (counters.values[counters.at + index] as number) - small;
    assert(difference >= 0, 'counter would go negative');
    counters.values[counters.at + index] = difference;
    return;
  }
  const difference = (counters.wide[index] as bigint) - amount;
  assert(difference >= 0n, 'counter would go negative');
  counters.wide[index] = difference;
}

/** a + b + amount, for limit and overflow checks; exact. Returns a number when it fits. */
export function sumWith(
  counters: Counters,
  a: CounterIndex,
  b: CounterIndex,
  amount: bigint,
  small: number = toSmall(amount),
): number | bigint {
  if (counters.wide === null && small >= 0) {
    const sum =
      (counters.values[counters.at + a] as number) +
      (counters.values[counters.at + b] as number) +
      small;
    if (sum <= SAFE) return sum;
  }
  return readCounter(counters, a) + readCounter(counters, b) + amount;
}

/** Whether `value` (from sumWith) exceeds counter `index`. */
export function exceeds(value: number | bigint, counters: Counters, index: CounterIndex): boolean {
  if (typeof value === 'number' && counters.wide === null)
    return value > (counters.values[counters.at + index] as number);
  return BigInt(value) > readCounter(counters, index);
}

export function overflows(value: number | bigint): boolean {
  return typeof value === 'bigint' && value > AMOUNT_MAX;
}

export function countersEqual(left: Counters, right: Counters): boolean {
  for (let index = 0; index < 4; index += 1) {
    if (readCounter(left, index as CounterIndex) !== readCounter(right, index as CounterIndex))
      return false;
  }
  return true;
}
