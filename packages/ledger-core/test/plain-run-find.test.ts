// Goal: a plain run finds each transfer the lane added to it before it is sealed, whether the
// transfer took the ordered or the scattered part, with lookups interleaved with adds (the
// scattered part's table is made at the first lookup and brought up to date by each), and finds
// nothing for an id it does not hold. Method: a batch of random and ascending ids, hashed as the
// lane hashes them (KnownIds.prepare), added in column order with lookups every few adds.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KnownIds } from '../src/storage/known-ids.js';
import { PlainRun } from '../src/storage/plain-lane.js';
import { TransferColumnsBuilder, TransferColumnsReader } from '../src/storage/transfer-columns.js';
import { BASE } from './fixtures/codec-fixtures.js';

const COUNT = 3_000;

describe('PlainRun.find before sealing', () => {
  it('finds every transfer added so far, in either part, and nothing else', () => {
    const builder = new TransferColumnsBuilder(COUNT);
    const ordered = (column: number): string => `ordered-${String(column).padStart(6, '0')}`;
    for (let column = 0; column < COUNT; column += 1)
      builder.addPlain(
        column % 5 === 0 ? ordered(column) : randomUUID(),
        `debit-${column % 17}`,
        `credit-${column % 13}`,
        'USD',
        column + 1,
      );
    const input = new TransferColumnsReader(builder.build());
    const known = new KnownIds();
    known.prepare(input.ids, COUNT);
    const run = new PlainRun(input, BASE);
    const added: number[] = [];
    for (let column = 0; column < COUNT; column += 1) {
      if (column % 5 === 0) run.addOrdered(column, 2 * column);
      else run.addScattered(column, 2 * column, known.preparedHashes);
      added.push(column);
      if (column % 7 !== 3) continue;
      // An id added earlier (maybe long before the table was last brought up to date), the one
      // just added, and ids the run does not hold.
      for (const at of [added[(column * 31) % added.length] as number, column]) {
        const found = run.find(input.ids[at] as string);
        expect(found?.id).toBe(input.ids[at]);
        expect(found?.amount).toBe(BigInt(at + 1));
        expect(found?.debitAccountId).toBe(`debit-${at % 17}`);
        expect(found?.timestamp).toBe(BASE + BigInt(2 * at));
      }
      expect(run.find(randomUUID())).toBeUndefined();
      if (column + 1 < COUNT) expect(run.find(input.ids[column + 1] as string)).toBeUndefined();
    }
    expect(run.count).toBe(COUNT);
    expect(run.scatteredCount).toBe(COUNT - COUNT / 5);
    // Every id once more, after the last add.
    for (let column = 0; column < COUNT; column += 1)
      expect(run.find(input.ids[column] as string)?.timestamp).toBe(BASE + BigInt(2 * column));
    // Sealed: the scattered part is the run's value now, found through the shard's runs, and the
    // ordered part is still found here.
    const sealed = run.seal();
    expect(sealed.scattered?.count).toBe(COUNT - COUNT / 5);
    expect(run.find(ordered(10))?.amount).toBe(11n);
    expect(run.find(input.ids[1] as string)).toBeUndefined();
  });
});
