// Goal: the SQLite peer conserves money and counts what it applied. Method: a small real run in
// a temp directory, then the sums of all balances.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createProgress, generateWorkload, isSkipped, sqlitePeer, totalAmountOf } from '../src/index.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('sqlite peer', () => {
  it('moves exactly the sum of all transfers, debits equal to credits', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bench-sqlite-'));
    dirs.push(dir);
    const workload = generateWorkload({ seed: 2, accountCount: 50, transferCount: 2000, batchSize: 100 });
    const run = await sqlitePeer.run({ workload, durability: 'strict', warmupMs: 0, durationMs: 60_000, dir, progress: createProgress({ enabled: false }) });
    if (isSkipped(run)) throw new Error(run.skipped);
    expect(run.exhausted).toBe(true);
    expect(run.transfers).toBe(2000);
    expect(run.checks?.appliedCount).toBe(2000);
    expect(run.checks?.debitsTotal).toBe(totalAmountOf(workload.batches));
    expect(run.checks?.creditsTotal).toBe(run.checks?.debitsTotal);
  });
});
