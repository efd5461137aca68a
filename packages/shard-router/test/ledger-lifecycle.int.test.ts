// Goal: the public Ledger contract for opening and closing holds: data kept across reopen, the
// default shard count, refused reopens (other shard count, dir locked), and a failed open that
// leaves nothing running. Method: real ledgers (compiled workers, LMDB in mkdtemp dirs), a child.
import { spawnSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Ledger } from '../src/index.js';
import { errorCodeOf, idOnShard, usd } from './ledger-fixtures.js';
import { dir, open, openLedger, seed, useLedgerDir } from './ledger-int-fixtures.js';

useLedgerDir();

describe('Ledger public API', () => {
  it('keeps every account and transfer across close and reopen, with or without the shards option', async () => {
    const ledger = await openLedger();
    const { bank, a0, c1, d2 } = await seed(ledger);
    await ledger.createTransfers([usd('r-1', bank, a0, 300n), usd('r-2', bank, c1, 200n)]);
    await ledger.createTransfer(usd('r-3', c1, d2, 50n));
    const before = await ledger.lookupAccounts([bank, a0, c1, d2]);
    await ledger.close();
    open.pop();

    const reopened = await openLedger({});
    expect(reopened.shards).toBe(4);
    expect(await reopened.lookupAccounts([bank, a0, c1, d2])).toEqual(before);
    const transfers = await reopened.lookupTransfers(['r-1', 'r-2', 'r-3']);
    expect(transfers.map((transfer) => transfer?.state)).toEqual(['posted', 'posted', 'posted']);
    expect((await reopened.createTransfer(usd('r-3', c1, d2, 50n))).status).toBe('exists');
    const report = await reopened.verify();
    expect(report).toMatchObject({ ok: true, violations: [] });
    expect(report.eventsReplayed).toBeGreaterThan(0);
    await reopened.close();
    open.pop();

    const again = await openLedger({ shards: 4 });
    expect((await again.lookupAccounts([c1]))[0]?.debitsPosted).toBe(50n);
  });

  it('creates one shard when no count is given (the default measured fastest for uniform pairs)', async () => {
    const ledger = await Ledger.open({ dir });
    try {
      expect(ledger.shards).toBe(1);
      expect((await ledger.info()).shards).toBe(1);
    } finally {
      await ledger.close();
    }
  });

  it('refuses to reopen a dir with another shard count (SHARD_COUNT_MISMATCH)', async () => {
    const ledger = await openLedger();
    await seed(ledger);
    await ledger.close();
    open.pop();
    expect(await errorCodeOf(Ledger.open({ dir, shards: 2 }))).toBe('SHARD_COUNT_MISMATCH');
    // The failed open released the dir: the right count opens it.
    const reopened = await openLedger({ shards: 4 });
    expect((await reopened.info()).shards).toBe(4);
  });

  it('refuses a second open of a dir that is open (DIR_LOCKED) and allows it after close', async () => {
    const ledger = await openLedger();
    expect(await errorCodeOf(Ledger.open({ dir, shards: 4 }))).toBe('DIR_LOCKED');
    await ledger.close();
    open.pop();
    expect(await errorCodeOf(ledger.createAccounts([{ id: 'late', currency: 'USD' }]))).toBe(
      'LEDGER_CLOSED',
    );
    await openLedger();
  });

  it('closes the shards that did open when another shard cannot be opened, so nothing outlives the failed open', async () => {
    const ledger = await openLedger();
    const before = idOnShard(ledger, 0, 'before', new Set());
    await ledger.createAccounts([{ id: before, currency: 'USD' }]);
    await ledger.close();
    open.pop();
    // Shard 2's snapshot dir is a plain file now: its worker fails to open, the other three open.
    await rm(join(dir, 'shard-002', 'snapshots'), { recursive: true });
    await writeFile(join(dir, 'shard-002', 'snapshots'), 'not a dir\n');
    // In a process of its own: a worker left running by the failed open would keep it alive.
    const fixture = fileURLToPath(new URL('./fixtures/open-once.mjs', import.meta.url));
    const child = spawnSync(process.execPath, [fixture, dir], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(child.signal, `the process ended by itself; stderr: ${child.stderr}`).toBeNull();
    expect(child.status).toBe(0);
    expect(child.stdout.trim()).toBe('refused IO_ERROR');
    // The failed open released the dir's lock: once the snapshot dir is back, the dir opens here.
    await rm(join(dir, 'shard-002', 'snapshots'));
    await mkdir(join(dir, 'shard-002', 'snapshots'));
    const reopened = await openLedger();
    const [found] = await reopened.lookupAccounts([before]);
    expect(found?.id).toBe(before);
  });

  // Node options of the application: `--input-type` stops a worker started from a file, and V8
  // flags are refused in a worker's explicit execArgv; the shard workers and the projector must
  // start under both.
  it.each(['--input-type=module', '--input-type=module --max-old-space-size=512 --expose-gc'])(
    'opens, with the read model, in an application run as `node %s -e`',
    (flagText) => {
      const flags = flagText.split(' ');
      const script = `import { Ledger, ReadModel } from '@shardledger/shard-router';
      const ledger = await Ledger.open({ dir: process.argv[1], shards: 4 });
      const model = await ReadModel.open({ ledger });
      await ledger.createAccounts([{ id: 'from-eval', currency: 'USD' }]);
      const [account] = await ledger.lookupAccounts(['from-eval']);
      await model.close();
      await ledger.close();
      console.log(account.id, typeof gc);`;
      // Bare specifiers of --eval input resolve from the working dir: this package's test dir.
      const cwd = fileURLToPath(new URL('.', import.meta.url));
      const child = spawnSync(process.execPath, [...flags, '-e', script, dir], {
        cwd,
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(child.stderr).toBe('');
      expect(child.status).toBe(0);
      expect(child.stdout.trim()).toBe(
        `from-eval ${flags.includes('--expose-gc') ? 'function' : 'undefined'}`,
      );
    },
  );
});
