// Goal: the commitFault test hook fails a commit as a failed write transaction would, and the log keeps only what was committed. Method: real LMDB in mkdtemp dirs, the hook failing one chosen commit, then a reopen.
import { afterEach, describe, expect, it } from 'vitest';
import { isLedgerError, ShardEngine } from '../src/index.js';
import { account, tempDirs, transfer } from './fixtures/engine-fixtures.js';

const dirs = tempDirs('commit-fault-');
const open: ShardEngine[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((engine) => engine.close()));
  await dirs.cleanup();
});

describe('ShardEngineOptions.commitFault', () => {
  it('fails the chosen commit with IO_ERROR, refuses every later call, and a reopen holds only the commits before it', async () => {
    const dir = await dirs.make();
    let commits = 0;
    const engine = await ShardEngine.open({
      dir,
      snapshotIntervalMs: 0,
      commitFault: () => (++commits === 2 ? new Error('simulated ENOSPC') : undefined),
    });
    open.push(engine);
    expect(
      (await engine.submit([account('a'), account('b')])).map((result) => result.status),
    ).toEqual(['ok', 'ok']);
    const failed = await engine.submit([transfer('t1', 'a', 'b', 5n)]).then(
      () => null,
      (error: unknown) => error,
    );
    expect(isLedgerError(failed, 'IO_ERROR')).toBe(true);
    const later = await engine.lookupAccounts(['a']).then(
      () => null,
      (error: unknown) => error,
    );
    expect(isLedgerError(later, 'IO_ERROR')).toBe(true);
    await engine.close();
    open.splice(0);
    const reopened = await ShardEngine.open({ dir, snapshotIntervalMs: 0 });
    open.push(reopened);
    expect(reopened.lastSequence).toBe(2);
    expect(await reopened.lookupTransfers(['t1'])).toEqual([undefined]);
    const [a] = await reopened.lookupAccounts(['a']);
    expect(a?.debitsPosted).toBe(0n);
    expect((await reopened.verify()).ok).toBe(true);
    expect((await reopened.submit([transfer('t1', 'a', 'b', 5n)]))[0]?.status).toBe('ok');
  });
});
