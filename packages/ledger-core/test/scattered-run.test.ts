// Goal: the parts of a sorted run of random-id transfers agree with the plain definitions they
// replace: sortedOrder orders ids exactly as JavaScript's string order does (which lookups
// binary-search by), for ids sharing long prefixes and ids with any code units; a run's filter
// never forgets an id of the run and rejects most others. Method: fast-check properties (seed
// printed on failure) and random UUIDv4 ids.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fixedFilterMayHave } from '../src/storage/id-filter.js';
import { runFilter } from '../src/storage/scattered-run.js';
import { sortedOrder } from '../src/storage/sorted-ids.js';

const byComparison = (ids: readonly string[]): number[] =>
  Array.from(ids.keys()).sort((x, y) => ((ids[x] as string) < (ids[y] as string) ? -1 : 1));

describe('sortedOrder', () => {
  it('orders distinct ids as string comparison does', () => {
    const id = fc.oneof(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
      fc
        .string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 8 })
        .map((tail) => 'pay-' + tail),
      fc.uuid(),
    );
    fc.assert(
      fc.property(fc.uniqueArray(id, { minLength: 0, maxLength: 300 }), (ids) => {
        expect(Array.from(sortedOrder(ids))).toEqual(byComparison(ids));
      }),
      { numRuns: 300 },
    );
  });

  it('orders a commit-sized set of UUIDv4 ids, and sets past its key bits', () => {
    for (const count of [8_190, 9_000]) {
      const ids = Array.from({ length: count }, () => randomUUID());
      expect(Array.from(sortedOrder(ids))).toEqual(byComparison(ids));
    }
  });
});

describe('a run filter', () => {
  it('holds every id of its run and rejects most others', () => {
    const ids = Array.from({ length: 20_000 }, () => randomUUID());
    const filter = runFilter(ids.length);
    for (const id of ids) filter.add(id);
    for (const id of ids) expect(fixedFilterMayHave(filter.words, id)).toBe(true);
    let claimed = 0;
    for (let probe = 0; probe < 100_000; probe += 1)
      if (fixedFilterMayHave(filter.words, randomUUID())) claimed += 1;
    // 8 bits per id: a few percent.
    expect(claimed / 100_000).toBeLessThan(0.06);
  });
});
