// Goal: the SQLite peer conserves money and counts what it applied; the insert-only reference
// inserts every transfer once and says that it is not a ledger. Method: a small real run in
// a temp directory, then the sums of all balances.
import { join } from 'node:path';
import { tempDir } from '@shardledger/ledger-core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import {
  createProgress,
  generateWorkload,
  isSkipped,
  sqliteInsertPeer,
  sqlitePeer,
  totalAmountOf,
} from '../src/index.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

describe('sqlite peer', () => {
  it('moves exactly the sum of all transfers, debits equal to credits', async () => {
    const { dir, cleanup } = await tempDir('bench-sqlite');
    cleanups.push(cleanup);
    const workload = generateWorkload({
      seed: 2,
      accountCount: 50,
      transferCount: 2000,
      batchSize: 100,
    });
    const run = await sqlitePeer.run({
      workload,
      durability: 'strict',
      warmupMs: 0,
      durationMs: 60_000,
      dir,
      progress: createProgress({ enabled: false }),
    });
    if (isSkipped(run)) throw new Error(run.skipped);
    expect(run.exhausted).toBe(true);
    expect(run.transfers).toBe(2000);
    expect(run.checks?.appliedCount).toBe(2000);
    expect(run.checks?.debitsTotal).toBe(totalAmountOf(workload.batches));
    expect(run.checks?.creditsTotal).toBe(run.checks?.debitsTotal);
  });

  it('sqlite-insert writes each transfer of the workload once, and its method says it keeps no balances', async () => {
    const { dir, cleanup } = await tempDir('bench-sqlite-insert');
    cleanups.push(cleanup);
    const workload = generateWorkload({
      seed: 3,
      accountCount: 50,
      transferCount: 1500,
      batchSize: 100,
    });
    const run = await sqliteInsertPeer.run({
      workload,
      durability: 'strict',
      warmupMs: 0,
      durationMs: 60_000,
      dir,
      progress: createProgress({ enabled: false }),
    });
    if (isSkipped(run)) throw new Error(run.skipped);
    expect(run.exhausted).toBe(true);
    expect(run.transfers).toBe(1500);
    expect(run.checks).toBeNull();
    expect(run.method).toContain('no balances');
    expect(run.method).toContain('synchronous=FULL');
    const db = new Database(join(dir, 'peer-insert.sqlite'), { readonly: true });
    try {
      const ids = db.prepare('SELECT id FROM transfers ORDER BY id').pluck().all() as string[];
      expect(ids).toEqual(workload.batches.flatMap((batch) => [...batch.ids]).sort());
      expect(db.prepare('SELECT sum(amount_lo) FROM transfers').pluck().get()).toBe(
        Number(totalAmountOf(workload.batches)),
      );
    } finally {
      db.close();
    }
  });
});
