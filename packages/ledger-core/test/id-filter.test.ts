// Goal: the id filter never forgets an id (a miss would let a duplicate transfer through) and
// rarely claims one it never saw; method: random UUIDv4 ids and arbitrary strings, past the
// first layer's capacity.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdFilter, idFilterCapacityMin } from '../src/storage/id-filter.js';

describe('IdFilter', () => {
  it('finds every id added, across layers, and claims about 0.1% of new ones', () => {
    const filter = new IdFilter();
    // Short distinct ids (cheaper to make than UUIDs), past the first layer into the second.
    const added = Array.from({ length: idFilterCapacityMin * 2 }, (_, at) => `t${at.toString(36)}`);
    for (const id of added) filter.add(id);
    expect(added.filter((id) => !filter.mayHave(id))).toEqual([]);
    let claimed = 0;
    const probes = 200_000;
    for (let index = 0; index < probes; index += 1) if (filter.mayHave(randomUUID())) claimed += 1;
    expect(claimed / probes).toBeLessThan(0.003);
    expect(filter.count).toBe(added.length);
    // Layers of 1M and 2M ids at 2 bytes each: at most 3 bytes per id held.
    expect(filter.bytes / filter.count).toBeLessThanOrEqual(3);
  });

  it('keeps a million ids in one layer, at about one false positive in 800', () => {
    const filter = new IdFilter();
    for (let at = 0; at < 1_000_000; at += 1) filter.add(randomUUID());
    // One layer of 2^20 ids at 2 bytes each: no smaller layers before it.
    expect(filter.bytes).toBe(2 ** 20 * 2);
    let claimed = 0;
    const probes = 400_000;
    for (let index = 0; index < probes; index += 1) if (filter.mayHave(randomUUID())) claimed += 1;
    expect(claimed / probes).toBeLessThan(0.002);
  });

  it('sizes its first layer from the expected count', () => {
    const filter = new IdFilter(1_000_000);
    expect(filter.bytes).toBe(2_000_000 * 2);
    expect(() => new IdFilter(-1)).toThrow();
  });

  it('never answers "certainly not" for an added string, whatever its code units', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ unit: 'binary', maxLength: 40 }), { maxLength: 300 }),
        (ids) => {
          const filter = new IdFilter();
          for (const id of ids) filter.add(id);
          return ids.every((id) => filter.mayHave(id));
        },
      ),
      { seed: 20261206, numRuns: 200 },
    );
  });

  it('answers "certainly not" for ids it never saw in an empty filter', () => {
    const filter = new IdFilter();
    expect(filter.mayHave(randomUUID())).toBe(false);
    expect(filter.mayHave('')).toBe(false);
  });
});
