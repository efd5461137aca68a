// Goal: sagas, atomic groups and pending resolutions keep transfer ids unique across the whole
// ledger; method: real 4-shard ledgers, an id reused on a shard other than the ones it was taken on.
import { describe, expect, it } from 'vitest';
import { usd } from './ledger-fixtures.js';
import { expectClean, openLedger, seed, useCleanups } from './transfer-ids-fixtures.js';

useCleanups();

describe('Transfer ids across shards', () => {
  it('counts a saga transfer on both of its shards: its id is refused on a third, and free again when the saga rolled back', async () => {
    const { ledger } = await openLedger();
    const { on, wallet } = await seed(ledger);
    const [a0] = on(0);
    const [a1] = on(1);
    const [a2, b2] = on(2);
    expect((await ledger.createTransfer(usd('s-1', a0, a1, 3n))).status).toBe('ok');
    expect((await ledger.createTransfer(usd('s-1', a2, b2, 3n))).status).toBe(
      'exists_with_different_fields',
    );
    // Refused on its debit side (the wallet is empty): no record anywhere, so the id is free.
    expect((await ledger.createTransfer(usd('s-2', wallet, a0, 3n))).status).toBe(
      'insufficient_funds',
    );
    expect((await ledger.createTransfer(usd('s-2', a2, b2, 3n))).status).toBe('ok');
    await expectClean(ledger);
  });

  it('refuses a whole atomic group when a member id is taken elsewhere or repeated across its shards', async () => {
    const { ledger } = await openLedger();
    const { on } = await seed(ledger);
    const [a0, b0] = on(0);
    const [a1, b1] = on(1);
    const [a2, b2] = on(2);
    expect((await ledger.createTransfer(usd('g-1', a0, b0, 2n))).status).toBe('ok');
    const before = await ledger.lookupAccounts([a1, b1, a2, b2]);
    const taken = await ledger.createAtomicGroup([usd('g-2', a1, b1, 2n), usd('g-1', a2, b2, 2n)]);
    expect(taken.map((result) => result.status)).toEqual([
      'linked_transfer_failed',
      'exists_with_different_fields',
    ]);
    const repeated = await ledger.createAtomicGroup([
      usd('g-3', a1, b1, 2n),
      usd('g-3', a2, b2, 2n),
    ]);
    expect(repeated.map((result) => result.status)).toEqual([
      'linked_transfer_failed',
      'duplicate_id_in_group',
    ]);
    expect(await ledger.lookupAccounts([a1, b1, a2, b2])).toEqual(before);
    expect(await ledger.lookupTransfers(['g-2', 'g-3'])).toEqual([undefined, undefined]);
    await expectClean(ledger);
  });

  it('refuses a pending transfer resolution whose own id is taken on another shard', async () => {
    const { ledger } = await openLedger();
    const { on } = await seed(ledger);
    const [a0, b0] = on(0);
    const [a1, b1] = on(1);
    expect((await ledger.createTransfer({ ...usd('p-1', a0, b0, 9n), pending: true })).status).toBe(
      'ok',
    );
    expect((await ledger.createTransfer(usd('used', a1, b1, 1n))).status).toBe('ok');
    expect((await ledger.postPendingTransfers([{ id: 'used', pendingId: 'p-1' }]))[0]?.status).toBe(
      'exists_with_different_fields',
    );
    expect((await ledger.lookupTransfers(['p-1']))[0]).toMatchObject({ state: 'pending' });
    expect(
      (await ledger.voidPendingTransfers([{ id: 'void-1', pendingId: 'p-1' }]))[0]?.status,
    ).toBe('ok');
    await expectClean(ledger);
  });
});
