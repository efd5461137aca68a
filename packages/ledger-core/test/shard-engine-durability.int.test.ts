// Goal: ShardEngine verifies clean after mixed work, keeps u128 amounts exact, reopens to the same
// state in relaxed durability, and stamps its format version. Method: real LMDB in mkdtemp dirs.
import { describe, expect, it } from 'vitest';
import { ShardEngine } from '../src/index.js';
import { AMOUNT_MAX } from '../src/limits.js';
import { shardFormatVersion } from '../src/storage/engine-recovery.js';
import { openShardDatabases } from '../src/storage/lmdb-env.js';
import {
  account,
  countersOf,
  expectLedgerError,
  group,
  post,
  spec,
  statuses,
  TestClock,
  transfer,
  useEngines,
  voidPending,
} from './fixtures/engine-fixtures.js';

const { dirs, openEngine } = useEngines('shard-engine-durability-');

describe('ShardEngine verification and durability modes', () => {
  it('verifies ok after a mixed workload, before and after a reopen', async () => {
    const dir = await dirs.make();
    const clock = new TestClock();
    const engine = await openEngine(dir, { clock: clock.read });
    await engine.submit([
      account('a'),
      account('b'),
      account('w', { debitsMustNotExceedCredits: true }),
      account('c', { creditsMustNotExceedDebits: true }),
    ]);
    for (let round = 0; round < 10; round += 1) {
      clock.advanceMs(3);
      await engine.submit([
        transfer(`t${round}`, 'a', 'w', 10n),
        transfer(`x${round}`, 'w', 'b', 15n),
        transfer(`c${round}`, 'c', 'a', 4n),
        transfer(`h${round}`, 'w', 'c', 3n, { pending: true, timeoutMs: round % 3 === 0 ? 5 : 0 }),
        round % 2 === 0
          ? post(`p${round}`, `h${round}`, 2n)
          : voidPending(`v${round}`, `h${round}`),
        group(
          spec(`g${round}a`, 'a', 'b', 1n),
          spec(`g${round}b`, 'w', 'b', round % 4 === 0 ? 1_000n : 1n),
        ),
      ]);
    }
    const report = await engine.verify();
    expect(report.violations).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.eventsReplayed).toBe(engine.info().lastSequence);
    const views = await engine.lookupAccounts(['a', 'b', 'w', 'c']);
    const sum = (pick: (view: NonNullable<(typeof views)[number]>) => bigint): bigint =>
      views.reduce((total, view) => total + (view ? pick(view) : 0n), 0n);
    expect(sum((view) => view.debitsPosted)).toBe(sum((view) => view.creditsPosted));
    expect(sum((view) => view.debitsPending)).toBe(sum((view) => view.creditsPending));
    await engine.close();
    const reopened = await openEngine(dir, { clock: clock.read });
    expect(await reopened.lookupAccounts(['a', 'b', 'w', 'c'])).toEqual(views);
    expect((await reopened.verify()).ok).toBe(true);
  });

  it('keeps amounts near 2^128-1 exact across a reopen and answers overflow instead of wrapping', async () => {
    const dir = await dirs.make();
    const first = await openEngine(dir);
    const big = AMOUNT_MAX - 5n;
    const wide = 1n << 64n;
    expect(
      await statuses(first, [
        account('x'),
        account('y'),
        account('z'),
        account('w'),
        transfer('max', 'x', 'y', big),
        transfer('five', 'x', 'y', 5n),
        transfer('one', 'x', 'y', 1n),
        transfer('hold', 'z', 'w', AMOUNT_MAX - 1n, { pending: true }),
        transfer('hold2', 'z', 'w', 2n, { pending: true }),
        transfer('top', 'z', 'w', 1n),
        transfer('mid', 'w', 'y', wide),
        transfer('wide', 'w', 'z', wide),
      ]),
    ).toEqual([
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'overflow',
      'ok',
      'overflow',
      'ok',
      'overflow',
      'ok',
    ]);
    await first.close();
    const engine = await openEngine(dir);
    const [x, y, z, w] = await engine.lookupAccounts(['x', 'y', 'z', 'w']);
    expect(countersOf(x)).toEqual([AMOUNT_MAX, 0n, 0n, 0n]);
    expect(countersOf(y)).toEqual([0n, AMOUNT_MAX, 0n, 0n]);
    expect(countersOf(z)).toEqual([1n, wide, AMOUNT_MAX - 1n, 0n]);
    expect(countersOf(w)).toEqual([wide, 1n, 0n, AMOUNT_MAX - 1n]);
    expect(x?.available).toBe(-AMOUNT_MAX);
    const [max, one, hold] = await engine.lookupTransfers(['max', 'one', 'hold']);
    expect(max?.amount).toBe(big);
    expect(one).toBeUndefined();
    expect(hold?.amount).toBe(AMOUNT_MAX - 1n);
    expect(
      await statuses(engine, [
        post('p', 'hold'),
        transfer('again', 'x', 'w', 1n),
        transfer('back', 'y', 'x', 1n),
      ]),
    ).toEqual(['ok', 'overflow', 'ok']);
    expect(countersOf((await engine.lookupAccounts(['z']))[0])).toEqual([AMOUNT_MAX, wide, 0n, 0n]);
    const history = await engine.accountHistory('y');
    expect(history.entries.map((entry) => entry.creditsPosted)).toEqual([
      big,
      AMOUNT_MAX,
      AMOUNT_MAX,
    ]);
    expect(history.entries.map((entry) => entry.debitsPosted)).toEqual([0n, 0n, 1n]);
    expect((await engine.verify()).ok).toBe(true);
  });

  it('works in relaxed durability mode and reopens to the same state', async () => {
    const dir = await dirs.make();
    const engine = await openEngine(dir, { durability: 'relaxed' });
    await engine.submit([account('a'), account('b')]);
    const pending = [];
    for (let batch = 0; batch < 5; batch += 1) {
      pending.push(
        engine.submit(
          Array.from({ length: 50 }, (_, index) =>
            transfer(`t${batch}-${index}`, 'a', 'b', BigInt(index + 1)),
          ),
        ),
      );
    }
    const results = await Promise.all(pending);
    expect(results.flat().every((result) => result.status === 'ok')).toBe(true);
    const before = await engine.lookupAccounts(['a', 'b']);
    expect(before[1]?.creditsPosted).toBe(5n * 1275n);
    await engine.close();
    const reopened = await openEngine(dir, { durability: 'relaxed' });
    expect(await reopened.lookupAccounts(['a', 'b'])).toEqual(before);
    expect(reopened.info().lastSequence).toBe(252);
    expect((await reopened.verify()).ok).toBe(true);
    await expectLedgerError(
      () => ShardEngine.open({ dir: `${dir}-x`, durability: 'lazy' as 'strict' }),
      'INVALID_ARGUMENT',
    );
  });
});

describe('shard format version', () => {
  /** Runs `change` on the dir's meta db while no engine has it open. */
  async function withMeta(
    dir: string,
    change: (meta: ReturnType<typeof openShardDatabases>['meta']) => Promise<unknown>,
  ): Promise<void> {
    const db = openShardDatabases(dir, 1024 ** 3);
    try {
      await change(db.meta);
      await db.env.flushed;
    } finally {
      await db.env.close();
    }
  }

  it('stamps a new dir, raises a dir written before the stamp, and refuses a newer format', async () => {
    const dir = await dirs.make();
    const first = await openEngine(dir);
    expect(
      await statuses(first, [account('a'), account('b'), transfer('t-1', 'a', 'b', 5n)]),
    ).toEqual(['ok', 'ok', 'ok']);
    await first.close();
    let stored: unknown;
    await withMeta(dir, async (meta) => (stored = meta.get('formatVersion')));
    expect(stored).toBe(shardFormatVersion);

    // A dir from before the stamp (format 1) opens, keeps its data and is raised.
    await withMeta(dir, (meta) => meta.remove('formatVersion'));
    const reopened = await openEngine(dir);
    expect(await statuses(reopened, [transfer('t-1', 'a', 'b', 5n)])).toEqual(['exists']);
    await reopened.close();
    await withMeta(dir, async (meta) => (stored = meta.get('formatVersion')));
    expect(stored).toBe(shardFormatVersion);

    await withMeta(dir, (meta) => meta.put('formatVersion', shardFormatVersion + 1));
    await expectLedgerError(() => openEngine(dir), 'NOT_A_LEDGER');
  });
});
