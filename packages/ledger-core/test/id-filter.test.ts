// Goal: the id filter never forgets an id (a miss would let a duplicate transfer through) and
// rarely claims one it never saw; method: random UUIDv4 ids and arbitrary strings, past the
// first layer's capacity.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdFilter, idFilterCapacityMin } from '../src/storage/id-filter.js';
import { KnownIds } from '../src/storage/known-ids.js';
import { snapshotPackr } from '../src/storage/snapshot-cut.js';
import { decodeSnapshotIds, snapshotIdValues } from '../src/storage/snapshot-ids.js';

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

  it('resumes from its snapshot as stored by a shard snapshot: every id, the counts, and growth', () => {
    for (const size of [3, 40_000, idFilterCapacityMin + 5]) {
      const transfers = new KnownIds();
      const ids = Array.from({ length: size }, (_, at) => `${at % 7}-${at.toString(36)}`);
      transfers.fill(size, ids);
      const sagas = new KnownIds();
      sagas.note('saga-1');
      // Through the bytes a snapshot body holds: a sparse layer for few ids, dense for many.
      const stored = [...snapshotIdValues({ transfers: transfers.image(), sagas: sagas.image() })];
      const bytes = Buffer.concat(stored.map((value) => snapshotPackr.pack(value)));
      expect(bytes.length).toBeLessThan(Math.max(4_096, transfers.filterBytes * 1.2));
      const decoded = decodeSnapshotIds(snapshotPackr.unpackMultiple(bytes) as unknown[]);
      const resumed = new KnownIds();
      resumed.resume(decoded.transfers);
      expect(ids.filter((id) => !resumed.mayHave(id))).toEqual([]);
      expect(resumed.max).toBe(transfers.max);
      expect(resumed.fastPath).toBe(transfers.fastPath);
      expect(resumed.count).toBe(transfers.count);
      expect(resumed.filterBytes).toBe(transfers.filterBytes);
      const resumedSagas = new KnownIds();
      resumedSagas.resume(decoded.sagas);
      expect(resumedSagas.mayHave('saga-1')).toBe(true);
      expect(resumedSagas.isNew('saga-1')).toBe(false);
      // Below the max but never seen (the filter), and above the max.
      expect(resumedSagas.isNew('saga-0')).toBe(true);
      expect(resumedSagas.isNew('saga-2')).toBe(true);
      // It goes on as the original would: ids added later are found, and a full layer grows.
      const more = Array.from({ length: 1_000 }, () => randomUUID());
      for (const id of more) resumed.note(id);
      expect(more.filter((id) => !resumed.mayHave(id))).toEqual([]);
      expect(resumed.count).toBe(transfers.count + more.length);
    }
  });

  it('keeps, when read after more ids came, every id of the moment its image was taken', () => {
    const known = new KnownIds();
    const before = Array.from({ length: 5_000 }, () => randomUUID());
    for (const id of before) known.note(id);
    // A snapshot takes the image at its cut and reads the words later, while writes go on.
    const image = known.image();
    const after = Array.from({ length: 5_000 }, () => randomUUID());
    for (const id of after) known.note(id);
    const stored = [...snapshotIdValues({ transfers: image, sagas: new KnownIds().image() })];
    const bytes = Buffer.concat(stored.map((value) => snapshotPackr.pack(value)));
    const resumed = new KnownIds();
    resumed.resume(decodeSnapshotIds(snapshotPackr.unpackMultiple(bytes) as unknown[]).transfers);
    expect(before.filter((id) => resumed.isNew(id))).toEqual([]);
    // Its counts are the cut's; the later ids' bits may be there too (never fewer bits).
    expect(resumed.count).toBe(before.length);
    expect(after.filter((id) => resumed.mayHave(id)).length).toBe(after.length);
  });

  it('refuses a layer whose words are not those of its capacity', () => {
    const filter = new IdFilter();
    filter.add('x');
    const image = filter.snapshot();
    expect(() =>
      IdFilter.resume({ ...image, capacities: image.capacities.map((capacity) => capacity * 2) }),
    ).toThrow(/blocks of its capacity/);
  });
});
