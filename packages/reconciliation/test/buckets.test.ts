// Goal: a bucket file reads back exactly the lines written to it, in order, whatever its length;
// method: files written through BucketWriter with more lines than one parse slice takes (and a
// count that is no multiple of it), and with none, read back through readBucket.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BucketWriter,
  decodeLine,
  encodeLine,
  readBucket,
  type SettlementLine,
} from '../src/internals.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'buckets-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function lineAt(n: number): SettlementLine {
  return {
    line: n + 2,
    recordId: `st_${n}`,
    type: n % 7 === 0 ? 'refund' : 'capture',
    reference: `PO-${n}`,
    pspReference: n % 3 === 0 ? '' : `psp "${n}",\n`,
    currency: 'USD',
    gross: BigInt(100 + n) * (n % 7 === 0 ? -1n : 1n),
    fee: BigInt(n % 5),
    net: BigInt(100 + n) * (n % 7 === 0 ? -1n : 1n) - BigInt(n % 5),
    settledAtMs: Date.UTC(2026, 11, 6) + n,
  };
}

describe('bucket files', () => {
  it('read back every line in order, across parse slices', async () => {
    const lines = Array.from({ length: 2_500 }, (_, n) => lineAt(n));
    const writer = new BucketWriter({ dir, side: 'settlement', bucketCount: 1 });
    await writer.create();
    for (const line of lines) {
      writer.add(line.reference, encodeLine(line));
      await writer.flushWhenFull();
    }
    await writer.close();
    expect(await readBucket(dir, 'settlement', 0, decodeLine)).toEqual(lines);
  });

  it('read back an empty bucket as no lines', async () => {
    const writer = new BucketWriter({ dir, side: 'ledger', bucketCount: 2 });
    await writer.create();
    await writer.close();
    expect(await readBucket(dir, 'ledger', 1, decodeLine)).toEqual([]);
  });
});
