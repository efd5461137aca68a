// Goal: freezing and closing accounts on a real shard: the plain-transfer lane sends frozen and
// closed accounts to the decider, and reopening (full replay, or a snapshot plus the log tail)
// gives the same statuses, balances and account order. Method: ShardEngine on temp LMDB dirs,
// batches through submitEncoded (the worker's path) and submit.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ShardEngine, type Command, type CommandResult } from '../src/index.js';
import { decodeResultBatch, encodeCommandBatch } from '../src/internals.js';
import { account, tempDirs, TestClock, transfer } from './fixtures/engine-fixtures.js';

const dirs = tempDirs('account-status-');
const open: ShardEngine[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((engine) => engine.close()));
  await dirs.cleanup();
});

async function openEngine(dir: string, clock: TestClock): Promise<ShardEngine> {
  const engine = await ShardEngine.open({ dir, snapshotIntervalMs: 0, clock: clock.read });
  open.push(engine);
  return engine;
}

async function lane(engine: ShardEngine, commands: Command[]): Promise<CommandResult[]> {
  return decodeResultBatch(await engine.submitEncoded(encodeCommandBatch(commands)));
}

const freeze = (accountId: string): Command => ({ type: 'FreezeAccount', accountId });
const unfreeze = (accountId: string): Command => ({ type: 'UnfreezeAccount', accountId });
const close = (accountId: string): Command => ({ type: 'CloseAccount', accountId });

/** What a reopened shard must give back: statuses and balances of every account, and pages. */
async function picture(engine: ShardEngine, ids: string[]): Promise<unknown> {
  return {
    accounts: await engine.lookupAccounts(ids),
    order: engine.liveState.accountOrder.page(null, 1_000, null),
    usd: engine.liveState.accountOrder.page('m', 5, 'USD'),
  };
}

describe('account status on a shard', () => {
  it('refuses plain transfers of a frozen or closed account in the lane, and takes them after unfreeze', async () => {
    const clock = new TestClock();
    const engine = await openEngine(await dirs.make(), clock);
    await engine.submit([account('a'), account('b'), account('c')]);
    expect(
      (await lane(engine, [transfer('t1', 'a', 'b', 10n), freeze('b')])).map((r) => r.status),
    ).toEqual(['ok', 'ok']);
    const refused = await lane(engine, [
      transfer('t2', 'a', 'b', 1n),
      transfer('t3', 'b', 'c', 1n),
      transfer('t4', 'a', 'c', 1n),
    ]);
    expect(refused.map((result) => result.status)).toEqual([
      'account_frozen',
      'account_frozen',
      'ok',
    ]);
    await lane(engine, [unfreeze('b'), transfer('t5', 'b', 'a', 10n), close('b')]);
    const [b] = await engine.lookupAccounts(['b']);
    expect(b).toMatchObject({ status: 'closed', balance: 0n, debitsPosted: 10n });
    const after = await lane(engine, [transfer('t6', 'a', 'b', 1n), transfer('t7', 'b', 'a', 1n)]);
    expect(after.map((result) => result.status)).toEqual(['account_closed', 'account_closed']);
    expect((await engine.verify()).ok).toBe(true);
  });

  it('reopens to the same statuses, balances and account order, from the log and from a snapshot', async () => {
    const clock = new TestClock();
    const dir = await dirs.make();
    const engine = await openEngine(dir, clock);
    const ids = Array.from(
      { length: 40 },
      (_, index) => `${String.fromCharCode(97 + (index % 26))}${index}`,
    );
    await engine.submit(
      ids.map((id, index) => account(id, { currency: index % 2 === 0 ? 'USD' : 'EUR' })),
    );
    await lane(engine, [
      freeze(ids[0] as string),
      close(ids[1] as string),
      freeze(ids[2] as string),
    ]);
    await engine.snapshot();
    await lane(engine, [
      unfreeze(ids[2] as string),
      transfer('t1', ids[2] as string, ids[4] as string, 5n),
      freeze(ids[4] as string),
      close(ids[3] as string),
      account('zz-late', { currency: 'USD' }),
    ]);
    const before = await picture(engine, [...ids, 'zz-late']);
    await engine.close();
    open.splice(open.indexOf(engine), 1);

    const fromSnapshot = await openEngine(dir, clock);
    expect(fromSnapshot.info().recoveredFromSnapshot).not.toBeNull();
    expect(await picture(fromSnapshot, [...ids, 'zz-late'])).toEqual(before);
    expect((await fromSnapshot.verify()).ok).toBe(true);
    await fromSnapshot.close();
    open.splice(open.indexOf(fromSnapshot), 1);

    rmSync(join(dir, 'snapshots'), { recursive: true, force: true });
    const fromLog = await openEngine(dir, clock);
    expect(fromLog.info().recoveredFromSnapshot).toBeNull();
    // The same answers with every snapshot gone: a full replay of the log.
    expect(await picture(fromLog, [...ids, 'zz-late'])).toEqual(before);
  });
});
