// Goal: matching is deterministic and sorts every difference into the right typed break; method:
// hand-built buckets for each shape, and a property test that any order of the same lines and
// transfers gives the same breaks and counts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchOptionsDefault, type MatchOptions } from '../src/index.js';
import { matchBucket, type LedgerEntry, type SettlementLine } from '../src/internals.js';

const dayMs = 86_400_000;
const t0 = Date.UTC(2026, 11, 6);

function line(
  recordId: string,
  reference: string,
  gross: bigint,
  options: Partial<SettlementLine> = {},
): SettlementLine {
  const fee = options.fee ?? 0n;
  return {
    line: 0,
    recordId,
    type: gross >= 0n ? 'capture' : 'refund',
    reference,
    pspReference: '',
    currency: 'USD',
    gross,
    fee,
    net: gross - fee,
    settledAtMs: t0,
    ...options,
  };
}

function entry(
  transferId: string,
  reference: string,
  amount: bigint,
  options: Partial<LedgerEntry> = {},
): LedgerEntry {
  return {
    transferId,
    reference,
    currency: 'USD',
    amount,
    state: 'posted',
    timestampMs: t0 - 3_600_000,
    ...options,
  };
}

const types = (
  lines: SettlementLine[],
  entries: LedgerEntry[],
  options: MatchOptions = matchOptionsDefault,
) => matchBucket(lines, entries, options).breaks.map((found) => `${found.type}:${found.cause}`);

describe('matchBucket', () => {
  it('pairs one to one, one to many and many to one, with no break', () => {
    const result = matchBucket(
      [line('a', 'R1', 100n), line('b', 'R2', 300n), line('c', 'R3', 70n), line('d', 'R3', 30n)],
      [
        entry('1', 'R1', 100n),
        entry('2', 'R2', 100n),
        entry('3', 'R2', 200n),
        entry('4', 'R3', 100n),
      ],
      matchOptionsDefault,
    );
    expect(result.breaks).toEqual([]);
    expect(result.matches).toEqual({
      one_to_one: 1,
      one_to_many: 1,
      many_to_one: 1,
      many_to_many: 0,
    });
    expect([result.linesMatched, result.transfersMatched]).toEqual([4, 4]);
  });

  it('matches within the amount and date tolerances, and not beyond them', () => {
    const loose: MatchOptions = {
      ...matchOptionsDefault,
      amountTolerance: 2n,
      dateToleranceMs: dayMs,
    };
    expect(types([line('a', 'R', 101n)], [entry('1', 'R', 100n)], loose)).toEqual([]);
    expect(types([line('a', 'R', 103n)], [entry('1', 'R', 100n)], loose)).toEqual([
      'amount_mismatch:amount_differs',
    ]);
    const late = line('a', 'R', 100n, { settledAtMs: t0 + 2 * dayMs });
    expect(types([late], [entry('1', 'R', 100n)], loose).sort()).toEqual([
      'missing_in_ledger:capture',
      'missing_in_settlement:not_settled',
    ]);
  });

  it('is fee-aware: a difference of exactly the fee says which basis the ledger booked', () => {
    const net: MatchOptions = { ...matchOptionsDefault, amountBasis: 'net' };
    expect(types([line('a', 'R', 1000n, { fee: 30n })], [entry('1', 'R', 970n)], net)).toEqual([]);
    const [notBooked] = matchBucket(
      [line('a', 'R', 1000n, { fee: 30n })],
      [entry('1', 'R', 1000n)],
      net,
    ).breaks;
    expect([notBooked?.cause, notBooked?.classification]).toEqual(['fee_not_booked', 'auto']);
    expect(notBooked?.adjustments).toEqual([{ currency: 'USD', amount: -30n }]);
    expect(types([line('a', 'R', 1000n, { fee: 30n })], [entry('1', 'R', 970n)])).toEqual([
      'amount_mismatch:fee_booked',
    ]);
  });

  it('types status, currency and duplicate breaks', () => {
    expect(types([line('a', 'R', 100n)], [entry('1', 'R', 100n, { state: 'voided' })])).toEqual([
      'status_mismatch:voided',
    ]);
    expect(types([line('a', 'R', 100n)], [entry('1', 'R', 100n, { state: 'pending' })])).toEqual([
      'status_mismatch:pending',
    ]);
    const euro = matchBucket(
      [line('a', 'R', 100n)],
      [entry('1', 'R', 100n, { currency: 'EUR' })],
      matchOptionsDefault,
    );
    expect(euro.breaks.map((found) => [found.type, found.adjustments])).toEqual([
      [
        'currency_mismatch',
        [
          { currency: 'USD', amount: 100n },
          { currency: 'EUR', amount: -100n },
        ],
      ],
    ]);
    expect(types([line('a', 'R', 100n), line('a', 'R', 100n)], [entry('1', 'R', 100n)])).toEqual([
      'duplicate:repeated',
    ]);
    expect(
      types([line('a', 'R', 100n), line('a', 'R', 90n)], [entry('1', 'R', 100n)]).sort(),
    ).toEqual(['duplicate:conflicting']);
  });

  it('gives the same breaks and counts for the same inputs in any order', () => {
    const references = ['R1', 'R2', 'R3', 'R4'];
    const lineArb = fc.record({
      recordId: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'),
      reference: fc.constantFrom(...references),
      gross: fc.bigInt({ min: -500n, max: 500n }),
      currency: fc.constantFrom('USD', 'EUR'),
    });
    const entryArb = fc.record({
      transferId: fc.constantFrom('1', '2', '3', '4', '5', '6'),
      reference: fc.constantFrom(...references),
      amount: fc.bigInt({ min: -500n, max: 500n }),
      currency: fc.constantFrom('USD', 'EUR'),
      state: fc.constantFrom('posted', 'posted', 'voided', 'pending') as fc.Arbitrary<
        LedgerEntry['state']
      >,
    });
    fc.assert(
      fc.property(
        fc.array(lineArb, { maxLength: 12 }),
        fc.uniqueArray(entryArb, { maxLength: 8, selector: (item) => item.transferId }),
        fc.integer(),
        (rawLines, rawEntries, seed) => {
          const lines = rawLines.map((item) =>
            line(item.recordId, item.reference, item.gross, { currency: item.currency }),
          );
          const entries = rawEntries.map((item) =>
            entry(item.transferId, item.reference, item.amount, item),
          );
          const shuffled = <T>(items: T[]) =>
            items
              .map((item, index) => ({ item, key: (index * 2654435761 + seed) % 1009 }))
              .sort((a, b) => a.key - b.key)
              .map(({ item }) => item);
          const first = matchBucket(lines, entries, matchOptionsDefault);
          const second = matchBucket(shuffled(lines), shuffled(entries), matchOptionsDefault);
          expect(second).toEqual(first);
        },
      ),
      { numRuns: 300, seed: 42 },
    );
  });
});
