// Goal: the parts of a sorted run of random-id transfers agree with the plain definitions they
// replace: sortedOrder orders ids exactly as JavaScript's string order does (which lookups
// binary-search by), for ids sharing long prefixes (all of them or some) and ids with any code
// units; so does a merge
// of runs, which compares the ids' UTF-8 bytes (compareIdBytes), and a lookup in a run, which
// compares an id with them (compareIdWithBytes); a run's filter never forgets an
// id of the run, whether added as a string or as bytes, and rejects most others. Method: fast-check properties (seed
// printed on failure) and random UUIDv4 ids.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fixedFilterMayHave, hashId } from '../src/storage/id-filter.js';
import {
  compareIdBytes,
  compareIdWithBytes,
  PlainRunBuilder,
  PlainRunCursor,
} from '../src/storage/plain-run.js';
import { chunkEntries, runFilter } from '../src/storage/scattered-run.js';
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

  it('orders commit-sized sets whose random ids share a prefix, all of them or some', () => {
    // One prefix for every id (its key reads the random part), and two prefixes, one long, so
    // that thousands of ids have equal keys (ordered by comparison then).
    const shared = Array.from({ length: 8_190 }, () => `payment-${randomUUID()}`);
    const mixed = Array.from({ length: 8_190 }, (_, at) =>
      at % 2 === 0 ? `tr-${randomUUID()}` : `tr-2026-12-07-${randomUUID()}`,
    );
    for (const ids of [shared, mixed])
      expect(Array.from(sortedOrder(ids))).toEqual(byComparison(ids));
  });
});

/** Whether the fixed filter `words` may hold `id` (hashed as a lookup hashes it). */
function mayHave(words: Uint32Array, id: string): boolean {
  const hash = new Uint32Array(2);
  hashId(id, hash);
  return fixedFilterMayHave(words, hash);
}

describe('a run filter', () => {
  it('holds every id of its run and rejects most others', () => {
    const ids = Array.from({ length: 20_000 }, () => randomUUID());
    const filter = runFilter(ids.length);
    for (const id of ids) filter.add(id);
    for (const id of ids) expect(mayHave(filter.words, id)).toBe(true);
    let claimed = 0;
    for (let probe = 0; probe < 100_000; probe += 1)
      if (mayHave(filter.words, randomUUID())) claimed += 1;
    // 8 bits per id: a few percent.
    expect(claimed / 100_000).toBeLessThan(0.06);
  });
});

/** Ids with any well-formed code points (lone surrogates are refused before ids are stored),
 * including pairs whose UTF-8 order differs from their string order (a code point above U+FFFF
 * against one from U+E000 to U+FFFF), ASCII ids and UUIDs. */
const anyId = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }),
  fc
    .array(fc.constantFrom('a', '\u{1F600}', '\uFF01', '\uE000', '\u00E9', 'z'), {
      minLength: 1,
      maxLength: 4,
    })
    .map((parts) => parts.join('')),
  fc.uuid(),
);

/** A plain run's value of `ids` (ascending), each with a record of bytes derived from it. */
function runOf(ids: readonly string[]): Buffer {
  const builder = new PlainRunBuilder();
  for (const id of ids) {
    const bytes = Buffer.from(id);
    const entry = Buffer.alloc(2 + bytes.length + 5, bytes.length % 251);
    entry.writeUInt16LE(bytes.length, 0);
    bytes.copy(entry, 2);
    builder.add(entry, 0, entry.length);
  }
  return builder.build();
}

describe('a merge of runs', () => {
  it('compares id bytes as string comparison does', () => {
    fc.assert(
      fc.property(anyId, anyId, (a, b) => {
        const left = Buffer.from(a);
        const right = Buffer.from(b);
        const bytes = Math.sign(compareIdBytes(left, 0, left.length, right, 0, right.length));
        expect(bytes).toBe(a === b ? 0 : a < b ? -1 : 1);
      }),
      { numRuns: 2_000 },
    );
    // UTF-8 puts U+FF01 first; JavaScript's order (and every run's) puts the emoji first.
    const emoji = Buffer.from('a\u{1F600}');
    const wide = Buffer.from('a\uFF01');
    expect(compareIdBytes(emoji, 0, emoji.length, wide, 0, wide.length)).toBeLessThan(0);
  });

  it('compares an id with stored id bytes as string comparison does (the lookup in a run)', () => {
    fc.assert(
      fc.property(anyId, anyId, fc.nat(3), (a, b, pad) => {
        // The stored bytes sit inside a larger buffer, as in a run's value.
        const stored = Buffer.concat([Buffer.alloc(pad, 0x7a), Buffer.from(b), Buffer.alloc(2)]);
        const end = pad + Buffer.byteLength(b);
        const order = Math.sign(compareIdWithBytes(a, stored, pad, end));
        expect(order).toBe(a === b ? 0 : a < b ? -1 : 1);
      }),
      { numRuns: 2_000 },
    );
    const stored = Buffer.from('a\uFF01');
    expect(compareIdWithBytes('a\u{1F600}', stored, 0, stored.length)).toBeLessThan(0);
  });

  it('merges runs into one in string order, every id in its filter and its record whole', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(anyId, { minLength: 1, maxLength: 400 }),
        fc.integer({ min: 1, max: 11 }),
        fc.integer({ min: 1, max: 60 }),
        (ids, runCount, chunkSize) => {
          const runs = Array.from({ length: runCount }, (_, run) =>
            ids.filter((_, at) => at % runCount === run).sort((x, y) => (x < y ? -1 : 1)),
          ).filter((run) => run.length > 0);
          // Each run as chunks of chunkSize ids, one cursor each, as a stored run is read.
          const built = chunkEntries(
            ids.length,
            runs.map((run) =>
              Array.from(
                { length: Math.ceil(run.length / chunkSize) },
                (_, chunk) =>
                  new PlainRunCursor(runOf(run.slice(chunk * chunkSize, (chunk + 1) * chunkSize))),
              ),
            ),
          );
          const merged: string[] = [];
          for (const chunk of built.chunks ?? []) {
            for (const cursor = new PlainRunCursor(chunk); !cursor.done;) {
              merged.push(cursor.id as string);
              const again = new PlainRunBuilder();
              cursor.copyTo(again);
              expect(again.build().equals(runOf([merged.at(-1) as string]))).toBe(true);
            }
          }
          expect(merged).toEqual([...ids].sort((x, y) => (x < y ? -1 : 1)));
          expect(built.fences).toEqual(
            (built.chunks ?? []).map((chunk) => new PlainRunCursor(chunk).id),
          );
          for (const id of ids) expect(mayHave(built.filter, id)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});
