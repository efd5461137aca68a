// Goal: AccountTable answers exactly as a Map of the same ids would: lookups, replacements,
// size, and iteration in creation order, across the table's growth. Method: fast-check (seed 42)
// runs random sets and lookups, ids drawn from a small alphabet so that repeats and near-equal
// ids are common, against a Map as the model; growth is also checked with 50,000 ids.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AccountTable } from '../src/account-table.js';
import type { AccountState } from '../src/domain/state.js';

function accountOf(id: string, flags: number): AccountState {
  return {
    id,
    currency: 'USD',
    scale: 2,
    flags,
    metadata: null,
    ordinal: 0,
    timestamp: 1n,
    counters: { values: new Float64Array(4), at: 0, wide: null },
  };
}

describe('AccountTable', () => {
  it('answers as a Map does, for any sequence of sets and lookups', () => {
    const id = fc.string({ unit: fc.constantFrom('a', 'b', 'é', '0', '-'), maxLength: 6 });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), id, fc.nat(7)), { maxLength: 3_000 }),
        (steps) => {
          const table = new AccountTable();
          const model = new Map<string, AccountState>();
          for (const [isSet, key, flags] of steps) {
            if (isSet) {
              const account = accountOf(key, flags);
              table.set(key, account);
              model.set(key, account);
            }
            expect(table.get(key)).toBe(model.get(key));
            expect(table.has(key)).toBe(model.has(key));
          }
          expect(table.size).toBe(model.size);
          expect([...table.keys()]).toEqual([...model.keys()]);
          expect([...table.values()]).toEqual([...model.values()]);
          expect([...table.entries()]).toEqual([...model.entries()]);
          expect([...table]).toEqual([...model]);
        },
      ),
      { seed: 42, numRuns: 100 },
    );
  });

  it('finds every one of 50,000 ids after growing, and none that was never set', () => {
    const table = new AccountTable();
    const ids = Array.from({ length: 50_000 }, (_, index) => `acct-${index * 7_919}`);
    for (const id of ids) table.set(id, accountOf(id, 0));
    expect(table.size).toBe(ids.length);
    for (const id of ids) expect(table.get(id)?.id).toBe(id);
    for (let index = 0; index < 1_000; index += 1)
      expect(table.has(`acct-${index * 7_919 + 1}`)).toBe(false);
  });

  it('iterates live: an account added while its values are walked is met too', () => {
    const table = new AccountTable();
    table.set('a', accountOf('a', 0));
    const seen: string[] = [];
    for (const account of table.values()) {
      seen.push(account.id);
      if (account.id === 'a') table.set('b', accountOf('b', 0));
    }
    expect(seen).toEqual(['a', 'b']);
  });

  it('refuses an account under another id', () => {
    expect(() => new AccountTable().set('a', accountOf('b', 0))).toThrow(/its own id/);
  });
});
