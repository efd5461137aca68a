// The account index (AccountOrder, SortedIds) against a sorted array: fast-check, seed 42, random
// ids inserted in random order, pages taken from random cursors.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AccountOrder, compareIds, SortedIds } from '../src/domain/account-order.js';
import { captureState, restoreState } from '../src/storage/snapshot-store.js';
import { MemoryLedger } from '../src/testing.js';
import { account } from './fixtures/engine-fixtures.js';

const SEED = 42;

/** What a page must be: the ids above `after`, ascending, at most `limit`. */
function expectedPage(ids: readonly string[], after: string | null, limit: number): string[] {
  return [...ids]
    .sort(compareIds)
    .filter((id) => after === null || id > after)
    .slice(0, limit);
}

describe('SortedIds', () => {
  it('pages exactly like a sorted array, across chunk splits, for any insert order', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), { maxLength: 3_000 }),
        fc.array(
          fc.tuple(fc.option(fc.string({ maxLength: 6 })), fc.integer({ min: 1, max: 50 })),
          {
            maxLength: 20,
          },
        ),
        (ids, pages) => {
          const sorted = new SortedIds();
          ids.forEach((id, ordinal) => sorted.add(id, ordinal));
          expect(sorted.size).toBe(ids.length);
          expect(sorted.all()).toEqual([...ids].sort(compareIds));
          // Each id keeps its ordinal.
          expect(
            sorted
              .cut()
              .ordinals.flat()
              .map((ordinal) => ids[ordinal]),
          ).toEqual(sorted.all());
          for (const [after, limit] of pages)
            expect(sorted.page(after, limit)).toEqual(expectedPage(ids, after, limit));
        },
      ),
      { seed: SEED, numRuns: 60 },
    );
  });

  it('walks every id once when paged with each page last id as the next cursor', () => {
    const ids = Array.from({ length: 5_000 }, (_, index) => `acct-${(index * 7_919) % 5_000}`);
    const sorted = new SortedIds();
    ids.forEach((id, ordinal) => sorted.add(id, ordinal));
    const walked: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page = sorted.page(after, 333);
      walked.push(...page);
      if (page.length < 333) break;
      after = page[page.length - 1] as string;
    }
    expect(walked).toEqual([...ids].sort(compareIds));
  });

  it('refuses an id added twice', () => {
    const sorted = new SortedIds();
    sorted.add('a', 0);
    expect(() => sorted.add('a', 1)).toThrow(/added twice/);
  });

  it('builds from ascending ids and refuses ids out of order', () => {
    const ids = Array.from({ length: 2_000 }, (_, index) => `id-${String(index).padStart(5, '0')}`);
    const ordinals = ids.map((_, index) => index);
    expect(SortedIds.fromAscending(ids, ordinals).page('id-00999', 2)).toEqual([
      'id-01000',
      'id-01001',
    ]);
    expect(() => SortedIds.fromAscending(['b', 'a'], [0, 1])).toThrow(/ascending/);
  });

  it('keeps a cut as it was while ids are added anywhere, chunks splitting', () => {
    // Ids added in a scattered order, before and after the cut: the later ones land in chunks
    // the cut shares, at their start, middle and end, and split them.
    const idOf = (index: number): string =>
      `k-${String((index * 7_919) % 20_000).padStart(5, '0')}`;
    const sorted = new SortedIds();
    for (let ordinal = 0; ordinal < 10_000; ordinal += 1) sorted.add(idOf(ordinal), ordinal);
    const before = sorted.all();
    const cut = sorted.cut();
    for (let ordinal = 10_000; ordinal < 20_000; ordinal += 1) sorted.add(idOf(ordinal), ordinal);
    expect(cut.size).toBe(10_000);
    expect(cut.ordinals.flat().map(idOf)).toEqual(before);
    // The live index has every id, each with its ordinal, and a second cut sees them.
    const all = Array.from({ length: 20_000 }, (_, ordinal) => idOf(ordinal)).sort(compareIds);
    expect(sorted.all()).toEqual(all);
    expect(sorted.cut().ordinals.flat().map(idOf)).toEqual(all);
  });
});

describe('AccountOrder', () => {
  it('pages one currency from its own index and all currencies merged in id order', () => {
    const order = new AccountOrder();
    const accounts = Array.from({ length: 300 }, (_, index) => ({
      id: `a${(index * 37) % 300}`,
      currency: ['USD', 'EUR', 'JPY'][index % 3] as string,
    }));
    accounts.forEach(({ id, currency }, ordinal) => order.add(id, currency, ordinal));
    const all = accounts.map((account) => account.id);
    const euros = accounts.filter((account) => account.currency === 'EUR').map(({ id }) => id);
    expect(order.page(null, 10, null)).toEqual(expectedPage(all, null, 10));
    expect(order.page('a5', 25, null)).toEqual(expectedPage(all, 'a5', 25));
    expect(order.page('a5', 25, 'EUR')).toEqual(expectedPage(euros, 'a5', 25));
    expect(order.page(null, 10, 'GBP')).toEqual([]);
  });
});

describe('the account order in snapshots', () => {
  it('restores the order a snapshot carries, and sorts the accounts of a snapshot without one', () => {
    const ledger = new MemoryLedger();
    for (let index = 0; index < 3_000; index += 1) {
      const id = `u${(index * 7_919) % 3_000}`;
      const decision = ledger.execute(account(id, { currency: index % 4 === 0 ? 'EUR' : 'USD' }));
      expect(decision.ok).toBe(true);
    }
    const payload = captureState(ledger.state);
    const { accountOrder: _order, ...older } = payload;
    for (const restored of [restoreState(payload), restoreState(older)]) {
      for (const currency of ['USD', 'EUR'])
        expect(restored.accountOrder.byCurrency.get(currency)?.all()).toEqual(
          ledger.state.accountOrder.byCurrency.get(currency)?.all(),
        );
      expect(restored.accountOrder.page('u2', 7, null)).toEqual(
        ledger.state.accountOrder.page('u2', 7, null),
      );
    }
  });
});
