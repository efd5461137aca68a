// Goal: the transfers-db entries of random-id plain transfers, which the lane defers, are written
// once enough of them wait, and a reopened engine finds every one: by lookup, and as 'exists' when
// a retry sends it again (a lost entry would post its money twice). Method: a real engine on a
// temp dir, batches of random UUIDv4 ids through submitEncoded past
// limits.deferredIndexEntriesMax, then close, reopen and look.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { limits, ShardEngine, type Command } from '../src/index.js';
import { decodeResultBatch, encodeCommandBatch } from '../src/internals.js';
import { account, transfer, tempDirs } from './fixtures/engine-fixtures.js';

const dirs = tempDirs('deferred-index-');
afterAll(() => dirs.cleanup());

const ACCOUNTS = ['a', 'b', 'c', 'd'];

/** The transfer of `id`, the `index`-th id sent: its accounts follow from its index. */
function transferOf(id: string, index: number): Command {
  return transfer(
    id,
    ACCOUNTS[index % ACCOUNTS.length] as string,
    ACCOUNTS[(index + 1) % ACCOUNTS.length] as string,
    1n,
  );
}

async function statuses(engine: ShardEngine, commands: Command[]): Promise<string[]> {
  const results = decodeResultBatch(await engine.submitEncoded(encodeCommandBatch(commands)));
  return results.map((result) => result.status);
}

describe('deferred transfers-db entries of random ids', () => {
  it('are written past the bound and found after reopen, by lookup and by a retry', async () => {
    const dir = await dirs.make();
    let engine = await ShardEngine.open({ dir, snapshotIntervalMs: 0 });
    await engine.submit(ACCOUNTS.map((id) => account(id)));
    const ids: string[] = [];
    // Past the bound, so at least one write of the deferred entries happens while open.
    const batches = Math.ceil(limits.deferredIndexEntriesMax / limits.batchSizeMax) + 2;
    for (let call = 0; call < batches; call += 1) {
      const commands = Array.from({ length: limits.batchSizeMax }, () => {
        const id = randomUUID();
        ids.push(id);
        return transferOf(id, ids.length - 1);
      });
      expect(new Set(await statuses(engine, commands))).toEqual(new Set(['ok']));
    }
    // The lane took them (the filter's rare false positives go through decide instead).
    expect(engine.plainLaneTransfers).toBeGreaterThan(ids.length * 0.99);
    // A retry while open: found among the deferred runs in memory or in the index.
    const retries = ids.flatMap((id, index) => (index % 997 === 0 ? [transferOf(id, index)] : []));
    expect(new Set(await statuses(engine, retries))).toEqual(new Set(['exists']));
    await engine.close();

    engine = await ShardEngine.open({ dir, snapshotIntervalMs: 0 });
    try {
      const found = await engine.lookupTransfers(ids);
      expect(found.filter((record) => record === undefined).length).toBe(0);
      expect(found.every((record, index) => record?.id === ids[index])).toBe(true);
      expect(new Set(await statuses(engine, retries))).toEqual(new Set(['exists']));
      const report = await engine.verify();
      expect(report.violations).toEqual([]);
    } finally {
      await engine.close();
    }
  }, 120_000);
});
