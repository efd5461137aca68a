// Goal: ShardEngine answers one result per command in input order, applies atomic groups whole or
// not at all, and refuses misuse (oversized batches, calls after close) with typed errors.
// Method: real LMDB in mkdtemp dirs, a test clock.
import { describe, expect, it } from 'vitest';
import { limits, type Command } from '../src/index.js';
import {
  account,
  countersOf,
  expectLedgerError,
  group,
  post,
  spec,
  statuses,
  transfer,
  useEngines,
  voidPending,
} from './fixtures/engine-fixtures.js';

const { dirs, openEngine } = useEngines('shard-engine-results-');

describe('ShardEngine results', () => {
  it('returns one result per command, in input order, with stable snake_case statuses', async () => {
    const engine = await openEngine(await dirs.make());
    const results = await engine.submit([
      account('alice'),
      account('bob'),
      account('wallet', { debitsMustNotExceedCredits: true }),
      {
        type: 'CreateAccount',
        account: { id: 'eur', currency: 'EUR', scale: 2, flags: 0, metadata: null },
      },
      transfer('t1', 'alice', 'bob', 10n),
      transfer('t2', 'alice', 'nobody', 10n),
      transfer('t3', 'alice', 'eur', 10n),
      transfer('t4', 'wallet', 'bob', 1n),
      transfer('t5', 'alice', 'alice', 1n),
      transfer('t1', 'alice', 'bob', 10n),
      transfer('t1', 'alice', 'bob', 11n),
      post('p1', 'missing'),
    ]);
    expect(results.map((result) => result.status)).toEqual([
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'account_not_found',
      'currency_mismatch',
      'insufficient_funds',
      'accounts_must_be_different',
      'exists',
      'exists_with_different_fields',
      'pending_not_found',
    ]);
    const sequences = results
      .filter((result) => result.status === 'ok')
      .map((result) => result.sequence);
    expect(sequences).toEqual([1, 2, 3, 4, 5]);
    for (const result of results)
      if (result.status !== 'ok') expect(result.sequence).toBeUndefined();
    const [alice, bob] = await engine.lookupAccounts(['alice', 'bob']);
    expect(alice?.debitsPosted).toBe(10n);
    expect(bob?.creditsPosted).toBe(10n);
    expect(bob?.balance).toBe(10n);
  });

  it('answers exists for identical resubmissions and exists_with_different_fields otherwise, across a reopen', async () => {
    const dir = await dirs.make();
    const first = await openEngine(dir);
    const history: Command[] = [
      account('a', { metadata: { owner: 'ann' } }),
      account('b'),
      transfer('t1', 'a', 'b', 100n, { metadata: { order: '42' } }),
      transfer('hold1', 'a', 'b', 50n, { pending: true }),
      transfer('hold2', 'a', 'b', 30n, { pending: true }),
      post('post1', 'hold1', 20n),
      voidPending('void1', 'hold2'),
    ];
    expect(await statuses(first, history)).toEqual(Array(history.length).fill('ok'));
    const before = await first.lookupAccounts(['a', 'b']);
    const lastSequence = first.info().lastSequence;
    await first.close();

    const engine = await openEngine(dir);
    expect(await statuses(engine, history)).toEqual(Array(history.length).fill('exists'));
    expect(
      await statuses(engine, [
        account('a', { metadata: { owner: 'bob' } }),
        account('b', { debitsMustNotExceedCredits: true }),
        transfer('t1', 'a', 'b', 101n, { metadata: { order: '42' } }),
        transfer('t1', 'a', 'b', 100n),
        transfer('hold1', 'a', 'b', 50n),
        post('post1', 'hold1', 21n),
        voidPending('post1', 'hold1'),
        post('void1', 'hold2'),
        post('post2', 'hold1'),
        voidPending('void2', 'hold2'),
      ]),
    ).toEqual([
      'exists_with_different_fields',
      'exists_with_different_fields',
      'exists_with_different_fields',
      'exists_with_different_fields',
      'exists_with_different_fields',
      'exists_with_different_fields',
      'exists_with_different_fields',
      'exists_with_different_fields',
      'pending_already_posted',
      'pending_already_voided',
    ]);
    expect(engine.info().lastSequence).toBe(lastSequence);
    expect(await engine.lookupAccounts(['a', 'b'])).toEqual(before);
    const [t1, hold1, post1] = await engine.lookupTransfers(['t1', 'hold1', 'post1']);
    expect(t1).toMatchObject({ amount: 100n, state: 'posted', metadata: { order: '42' } });
    expect(hold1).toMatchObject({ pending: true, state: 'posted', postedAmount: 20n });
    expect(post1).toMatchObject({ kind: 'post', pendingId: 'hold1', amount: 20n });
  });
});

describe('ShardEngine atomic groups', () => {
  it('applies a group whole or not at all, with a reason per member', async () => {
    const engine = await openEngine(await dirs.make());
    await engine.submit([
      account('buyer', { debitsMustNotExceedCredits: true }),
      account('bank'),
      account('s1'),
      account('s2'),
      account('fee'),
    ]);
    await engine.submit([transfer('fund', 'bank', 'buyer', 100n)]);
    const sequence = engine.info().lastSequence;
    const [failed] = await engine.submit([
      group(
        spec('g1', 'buyer', 's1', 60n),
        spec('g2', 'buyer', 's2', 30n),
        spec('g3', 'buyer', 'fee', 11n),
      ),
    ]);
    expect(failed?.status).toBe('insufficient_funds');
    expect(failed?.statuses).toEqual([
      'linked_transfer_failed',
      'linked_transfer_failed',
      'insufficient_funds',
    ]);
    expect(engine.info().lastSequence).toBe(sequence);
    expect(await engine.lookupTransfers(['g1', 'g2', 'g3'])).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(countersOf((await engine.lookupAccounts(['buyer']))[0])).toEqual([0n, 100n, 0n, 0n]);

    const [applied] = await engine.submit([
      group(
        spec('g1', 'buyer', 's1', 60n),
        spec('g2', 'buyer', 's2', 30n),
        spec('g3', 'buyer', 'fee', 10n),
      ),
    ]);
    expect(applied?.status).toBe('ok');
    expect(applied?.sequence).toBe(sequence + 3);
    const balances = (await engine.lookupAccounts(['buyer', 's1', 's2', 'fee'])).map(
      (view) => view?.balance,
    );
    expect(balances).toEqual([0n, 60n, 30n, 10n]);
    const [again] = await engine.submit([
      group(
        spec('g1', 'buyer', 's1', 60n),
        spec('g2', 'buyer', 's2', 30n),
        spec('g3', 'buyer', 'fee', 10n),
      ),
    ]);
    expect(again?.status).toBe('exists');
  });
});

describe('ShardEngine misuse and limits', () => {
  it('throws BATCH_TOO_LARGE for a batch over limits.batchSizeMax and writes nothing', async () => {
    const engine = await openEngine(await dirs.make());
    await engine.submit([account('a'), account('b')]);
    const commands = Array.from({ length: limits.batchSizeMax + 1 }, (_, index) =>
      transfer(`t${index}`, 'a', 'b', 1n),
    );
    await expectLedgerError(() => engine.submit(commands), 'BATCH_TOO_LARGE');
    expect(engine.info().lastSequence).toBe(2);
    expect(await engine.lookupTransfers(['t0'])).toEqual([undefined]);
    expect(countersOf((await engine.lookupAccounts(['a']))[0])).toEqual([0n, 0n, 0n, 0n]);
    const results = await engine.submit(commands.slice(0, limits.batchSizeMax));
    expect(results).toHaveLength(limits.batchSizeMax);
    expect(results.every((result) => result.status === 'ok')).toBe(true);
  });

  it('throws LEDGER_CLOSED from every call after close', async () => {
    const engine = await openEngine(await dirs.make());
    await engine.submit([account('a')]);
    await engine.close();
    await expectLedgerError(() => engine.submit([account('b')]), 'LEDGER_CLOSED');
    await expectLedgerError(() => engine.lookupAccounts(['a']), 'LEDGER_CLOSED');
    await expectLedgerError(() => engine.lookupTransfers(['x']), 'LEDGER_CLOSED');
    await expectLedgerError(() => engine.accountHistory('a'), 'LEDGER_CLOSED');
    await expectLedgerError(() => engine.balanceAsOf('a', { sequence: 1 }), 'LEDGER_CLOSED');
    await expectLedgerError(() => engine.readEvents(0, 10), 'LEDGER_CLOSED');
    await expectLedgerError(() => engine.verify(), 'LEDGER_CLOSED');
    await expectLedgerError(() => engine.snapshot(), 'LEDGER_CLOSED');
    await engine.close();
  });
});
