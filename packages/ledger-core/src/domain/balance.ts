// Four unsigned 128-bit counters per account with a float64 fast path.
//
// Why: a bigint add allocates, and a transfer touches two counters; at millions of transfers per
// second that allocation dominates. A double holds every integer below 2^53 exactly, so while all
// four counters stay below 2^53 we keep them as numbers; the first change that would reach 2^53
// moves that account to bigints for good ("wide" mode). This is the one file of domain/ allowed
// to use Number(): every conversion is guarded by a range check and is exact.

import { AMOUNT_MAX } from '../limits.js';
import { assert } from '../assert.js';

export const DEBITS_POSTED = 0;
export const CREDITS_POSTED = 1;
export const DEBITS_PENDING = 2;
export const CREDITS_PENDING = 3;
export type CounterIndex = 0 | 1 | 2 | 3;

const SAFE = Number.MAX_SAFE_INTEGER;
const SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);

export interface Counters {
  /** Exact while `wide` is null. */
  readonly small: number[];
  /** Non-null once any counter reached 2^53; then `small` is stale and unused. */
  wide: bigint[] | null;
}

export function newCounters(): Counters {
  return { small: [0, 0, 0, 0], wide: null };
}

export function copyCounters(counters: Counters): Counters {
  return { small: counters.small.slice(), wide: counters.wide === null ? null : counters.wide.slice() };
}

export function readCounter(counters: Counters, index: CounterIndex): bigint {
  if (counters.wide !== null) return counters.wide[index] as bigint;
  return BigInt(counters.small[index] as number);
}

function widen(counters: Counters): bigint[] {
  if (counters.wide === null) {
    counters.wide = counters.small.map((value) => BigInt(value));
  }
  return counters.wide;
}

/** `amount` as an exact number, or -1 when it is 2^53 or more. Hot paths convert once per
 * transfer and pass the result on: every bigint comparison or conversion is a runtime call. */
export function toSmall(amount: bigint): number {
  return amount <= SAFE_BIG ? Number(amount) : -1;
}

export function addCounter(counters: Counters, index: CounterIndex, amount: bigint, small: number = toSmall(amount)): void {
  if (counters.wide === null && small >= 0) {
    const sum = (counters.small[index] as number) + small;
    if (sum <= SAFE) {
      counters.small[index] = sum;
      return;
    }
  }
  // No upper bound here: per-currency totals may pass 2^128. Account counters are kept within
  // AMOUNT_MAX by decide (OVERFLOW) and re-checked by the audit after replay.
  const wide = widen(counters);
  wide[index] = (wide[index] as bigint) + amount;
}

export function subtractCounter(counters: Counters, index: CounterIndex, amount: bigint, small: number = toSmall(amount)): void {
  if (counters.wide === null) {
    // amount <= counter < 2^53 whenever the subtraction is legal.
    assert(small >= 0, 'subtract more than a small counter holds');
    const difference = (counters.small[index] as number) - small;
    assert(difference >= 0, 'counter would go negative');
    counters.small[index] = difference;
    return;
  }
  const difference = (counters.wide[index] as bigint) - amount;
  assert(difference >= 0n, 'counter would go negative');
  counters.wide[index] = difference;
}

/** a + b + amount, for limit and overflow checks; exact. Returns a number when it fits. */
export function sumWith(counters: Counters, a: CounterIndex, b: CounterIndex, amount: bigint, small: number = toSmall(amount)): number | bigint {
  if (counters.wide === null && small >= 0) {
    const sum = (counters.small[a] as number) + (counters.small[b] as number) + small;
    if (sum <= SAFE) return sum;
  }
  return readCounter(counters, a) + readCounter(counters, b) + amount;
}

/** Whether `value` (from sumWith) exceeds counter `index`. */
export function exceeds(value: number | bigint, counters: Counters, index: CounterIndex): boolean {
  if (typeof value === 'number' && counters.wide === null) return value > (counters.small[index] as number);
  return BigInt(value) > readCounter(counters, index);
}

export function overflows(value: number | bigint): boolean {
  return typeof value === 'bigint' && value > AMOUNT_MAX;
}

export function countersEqual(left: Counters, right: Counters): boolean {
  for (let index = 0; index < 4; index += 1) {
    if (readCounter(left, index as CounterIndex) !== readCounter(right, index as CounterIndex)) return false;
  }
  return true;
}
