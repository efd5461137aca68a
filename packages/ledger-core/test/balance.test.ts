// u128 counters with a float64 fast path: exact at and across 2^53, checked against pure bigint math.
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { isLedgerError, type LedgerEvent } from '../src/index.js';
import {
  addCounter,
  copyCounters,
  countersEqual,
  CREDITS_PENDING,
  CREDITS_POSTED,
  DEBITS_PENDING,
  DEBITS_POSTED,
  exceeds,
  newCounters,
  overflows,
  readCounter,
  subtractCounter,
  sumWith,
  type CounterIndex,
  type Counters,
} from '../src/domain/balance.js';
import { AMOUNT_MAX } from '../src/limits.js';

const TWO_53 = 2n ** 53n;
const SAFE = TWO_53 - 1n;

function values(counters: Counters): bigint[] {
  return [0, 1, 2, 3].map((index) => readCounter(counters, index as CounterIndex));
}

describe('counters below 2^53', () => {
  it('start at zero in the fast path', () => {
    const counters = newCounters();
    expect(values(counters)).toEqual([0n, 0n, 0n, 0n]);
    expect(counters.wide).toBeNull();
  });

  it('stay numbers while every counter is at most 2^53-1', () => {
    const counters = newCounters();
    addCounter(counters, DEBITS_POSTED, SAFE - 1n);
    addCounter(counters, DEBITS_POSTED, 1n);
    expect(counters.wide).toBeNull();
    expect(readCounter(counters, DEBITS_POSTED)).toBe(SAFE);
  });

  it('subtract back to zero exactly', () => {
    const counters = newCounters();
    addCounter(counters, CREDITS_PENDING, 1_000n);
    subtractCounter(counters, CREDITS_PENDING, 1_000n);
    expect(readCounter(counters, CREDITS_PENDING)).toBe(0n);
  });
});

describe('counters crossing 2^53', () => {
  it('widen on the first add that reaches 2^53 and stay exact', () => {
    const counters = newCounters();
    addCounter(counters, DEBITS_POSTED, SAFE);
    addCounter(counters, DEBITS_POSTED, 1n);
    expect(counters.wide).not.toBeNull();
    expect(readCounter(counters, DEBITS_POSTED)).toBe(TWO_53);
    addCounter(counters, DEBITS_POSTED, 1n);
    expect(readCounter(counters, DEBITS_POSTED)).toBe(TWO_53 + 1n);
  });

  it('keep the odd values that float64 cannot hold, e.g. 2^53+1 and 2^53+3', () => {
    const counters = newCounters();
    addCounter(counters, CREDITS_POSTED, SAFE);
    addCounter(counters, CREDITS_POSTED, 2n);
    expect(readCounter(counters, CREDITS_POSTED)).toBe(TWO_53 + 1n);
    addCounter(counters, CREDITS_POSTED, 2n);
    expect(readCounter(counters, CREDITS_POSTED)).toBe(TWO_53 + 3n);
  });

  it('widen when a single amount is above 2^53, keeping the other counters', () => {
    const counters = newCounters();
    addCounter(counters, DEBITS_PENDING, 7n);
    addCounter(counters, CREDITS_POSTED, TWO_53 + 5n);
    expect(values(counters)).toEqual([0n, TWO_53 + 5n, 7n, 0n]);
  });

  it('subtract exactly in wide mode and refuse to go negative', () => {
    const counters = newCounters();
    addCounter(counters, DEBITS_PENDING, AMOUNT_MAX);
    subtractCounter(counters, DEBITS_PENDING, AMOUNT_MAX - 3n);
    expect(readCounter(counters, DEBITS_PENDING)).toBe(3n);
    expect(() => subtractCounter(counters, DEBITS_PENDING, 4n)).toThrow(/negative/);
  });

  it('refuse a subtraction below zero in the fast path with an assertion', () => {
    const counters = newCounters();
    addCounter(counters, DEBITS_POSTED, 5n);
    let caught: unknown;
    try {
      subtractCounter(counters, DEBITS_POSTED, 6n);
    } catch (error) {
      caught = error;
    }
    expect(isLedgerError(caught, 'ASSERTION_FAILED')).toBe(true);
  });

  it('match pure bigint arithmetic for random adds and subtracts around 2^53', () => {
    const amount = fc.oneof(
      fc.bigInt({ min: 1n, max: 1_000n }),
      fc.bigInt({ min: SAFE - 1_000n, max: SAFE + 1_000n }),
      fc.bigInt({ min: 1n, max: TWO_53 * 4n }),
    );
    const step = fc.record({
      index: fc.constantFrom<CounterIndex>(0, 1, 2, 3),
      amount,
      subtract: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const counters = newCounters();
        const model = [0n, 0n, 0n, 0n];
        for (const { index, amount: value, subtract } of steps) {
          if (subtract) {
            const take = value <= (model[index] as bigint) ? value : (model[index] as bigint);
            if (take === 0n) continue;
            subtractCounter(counters, index, take);
            model[index] = (model[index] as bigint) - take;
          } else {
            addCounter(counters, index, value);
            model[index] = (model[index] as bigint) + value;
          }
          expect(values(counters)).toEqual(model);
          const sum = sumWith(counters, DEBITS_POSTED, DEBITS_PENDING, value);
          expect(BigInt(sum)).toBe((model[0] as bigint) + (model[2] as bigint) + value);
          expect(exceeds(sum, counters, CREDITS_POSTED)).toBe(BigInt(sum) > (model[1] as bigint));
        }
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});

describe('sums and limit checks', () => {
  it('return a number when a + b + amount fits below 2^53, and an exact bigint otherwise', () => {
    const counters = newCounters();
    addCounter(counters, DEBITS_POSTED, 10n);
    addCounter(counters, DEBITS_PENDING, 5n);
    expect(sumWith(counters, DEBITS_POSTED, DEBITS_PENDING, 1n)).toBe(16);
    addCounter(counters, DEBITS_POSTED, SAFE - 20n);
    expect(sumWith(counters, DEBITS_POSTED, DEBITS_PENDING, 5n)).toBe(Number.MAX_SAFE_INTEGER);
    expect(sumWith(counters, DEBITS_POSTED, DEBITS_PENDING, 6n)).toBe(TWO_53);
    expect(sumWith(counters, DEBITS_POSTED, DEBITS_PENDING, 8n)).toBe(TWO_53 + 2n);
  });

  it('compare sums with a counter exactly on either side of 2^53', () => {
    const counters = newCounters();
    addCounter(counters, CREDITS_POSTED, SAFE);
    expect(exceeds(Number(SAFE), counters, CREDITS_POSTED)).toBe(false);
    expect(exceeds(TWO_53, counters, CREDITS_POSTED)).toBe(true);
    addCounter(counters, CREDITS_POSTED, 2n);
    expect(exceeds(TWO_53 + 1n, counters, CREDITS_POSTED)).toBe(false);
    expect(exceeds(TWO_53 + 2n, counters, CREDITS_POSTED)).toBe(true);
    expect(exceeds(5, counters, CREDITS_POSTED)).toBe(false);
  });

  it('flag only bigint sums above 2^128-1 as overflow', () => {
    expect(overflows(AMOUNT_MAX)).toBe(false);
    expect(overflows(AMOUNT_MAX + 1n)).toBe(true);
    expect(overflows(Number.MAX_SAFE_INTEGER)).toBe(false);
  });

  it('copy counters independently and compare small and wide forms by value', () => {
    const small = newCounters();
    addCounter(small, DEBITS_POSTED, 3n);
    const wide = newCounters();
    addCounter(wide, CREDITS_POSTED, TWO_53);
    subtractCounter(wide, CREDITS_POSTED, TWO_53);
    addCounter(wide, DEBITS_POSTED, 3n);
    expect(wide.wide).not.toBeNull();
    expect(countersEqual(small, wide)).toBe(true);
    const copy = copyCounters(wide);
    addCounter(copy, DEBITS_POSTED, 1n);
    expect(readCounter(wide, DEBITS_POSTED)).toBe(3n);
    expect(countersEqual(copy, wide)).toBe(false);
  });
});

describe('encodings at the boundary', () => {
  const edges = [0n, 1n, 2n ** 64n - 1n, 2n ** 64n, AMOUNT_MAX];

  it('round-trips 0, 1, 2^64-1, 2^64 and 2^128-1 through msgpackr with useBigIntExtension', () => {
    const packr = new Packr({ useBigIntExtension: true });
    for (const value of edges) {
      const decoded = packr.unpack(packr.pack({ value })) as { value: unknown };
      expect(decoded.value).toBe(value);
    }
  });

  it('round-trips an event carrying a 2^128-1 amount through msgpackr and structuredClone', () => {
    const event: LedgerEvent = {
      type: 'TransferCreated',
      timestamp: 1_700_000_000_000_000_000n,
      transfer: {
        id: 't1',
        debitAccountId: 'a',
        creditAccountId: 'b',
        amount: AMOUNT_MAX,
        currency: 'USD',
        pending: false,
        timeoutMs: 0,
        metadata: { order: '7' },
      },
    };
    const packr = new Packr({ useBigIntExtension: true });
    expect(packr.unpack(packr.pack(event))).toEqual(event);
    expect(structuredClone(event)).toEqual(event);
  });

  it('refuses a bigint above 64 bits without useBigIntExtension, which is why we set it', () => {
    expect(() => new Packr().pack({ value: AMOUNT_MAX })).toThrow();
  });

  it('writes counters to JSON as decimal strings that parse back exactly', () => {
    for (const value of edges)
      expect(BigInt(JSON.parse(JSON.stringify(value.toString())) as string)).toBe(value);
  });
});
