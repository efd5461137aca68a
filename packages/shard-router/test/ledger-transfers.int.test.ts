// Goal: the public Ledger contract for writes holds: one result per input in order, holds posted and
// voided on one shard and across shards, reads of its own cross-shard writes, atomic groups.
// Method: real 4-shard ledgers (compiled workers, LMDB in mkdtemp dirs).
import { describe, expect, it } from 'vitest';
import { ledgerTotals, usd } from './ledger-fixtures.js';
import { openLedger, seed, useLedgerDir } from './ledger-int-fixtures.js';

useLedgerDir();

describe('Ledger public API', () => {
  it('returns one result per input, in input order, with exists and exists_with_different_fields', async () => {
    const ledger = await openLedger();
    const { bank, a0, c1, d2 } = await seed(ledger);
    const accounts = await ledger.createAccounts([
      { id: a0, currency: 'USD', debitsMustNotExceedCredits: true },
      { id: 'new-eur', currency: 'EUR' },
      { id: c1, currency: 'EUR' },
      { id: '', currency: 'USD' },
    ]);
    expect(accounts).toEqual([
      { id: a0, status: 'exists' },
      { id: 'new-eur', status: 'ok' },
      { id: c1, status: 'exists_with_different_fields' },
      { id: '', status: 'invalid_id' },
    ]);

    const first = await ledger.createTransfers([
      usd('t-1', bank, a0, 1000n),
      usd('t-2', bank, c1, 500n),
      usd('t-3', a0, d2, 5000n),
      usd('t-4', bank, 'ghost', 1n),
      usd('t-5', bank, a0, 0n),
      usd('t-6', a0, c1, 100n),
    ]);
    expect(first.map((result) => [result.id, result.status])).toEqual([
      ['t-1', 'ok'],
      ['t-2', 'ok'],
      ['t-3', 'insufficient_funds'],
      ['t-4', 'account_not_found'],
      ['t-5', 'invalid_amount'],
      ['t-6', 'ok'],
    ]);

    const again = await ledger.createTransfers([
      usd('t-2', bank, c1, 500n),
      usd('t-1', bank, a0, 1000n),
      usd('t-1', bank, a0, 999n),
      usd('t-2', bank, c1, 501n),
    ]);
    expect(again.map((result) => result.status)).toEqual([
      'exists',
      'exists',
      'exists_with_different_fields',
      'exists_with_different_fields',
    ]);
    expect((await ledger.createTransfer(usd('t-6', a0, c1, 100n))).status).toBe('exists');

    const [a, ghost, c] = await ledger.lookupAccounts([a0, 'ghost', c1]);
    expect(ghost).toBeUndefined();
    expect(a).toMatchObject({
      id: a0,
      debitsPosted: 100n,
      creditsPosted: 1000n,
      balance: 900n,
      available: 900n,
    });
    expect(c).toMatchObject({
      id: c1,
      creditsPosted: 600n,
      debitsPosted: 0n,
      debitsPending: 0n,
      creditsPending: 0n,
    });

    const [t1, t3, t6, missing] = await ledger.lookupTransfers(['t-1', 't-3', 't-6', 'nope']);
    expect(t1).toMatchObject({
      id: 't-1',
      debitAccountId: bank,
      creditAccountId: a0,
      amount: 1000n,
      state: 'posted',
      crossShard: false,
    });
    expect(t3).toBeUndefined();
    expect(t6).toMatchObject({ id: 't-6', amount: 100n, state: 'posted', crossShard: true });
    expect(missing).toBeUndefined();
    expect((await ledger.verify()).ok).toBe(true);
  });

  it('posts and voids pending transfers through the Ledger, on one shard and across shards', async () => {
    const ledger = await openLedger();
    const { bank, a0, b0, c1 } = await seed(ledger);
    await ledger.createTransfer(usd('fund', bank, a0, 1000n));
    const holds = await ledger.createTransfers([
      usd('p-1', a0, b0, 400n, { pending: true }),
      usd('p-2', a0, b0, 300n, { pending: true }),
      usd('p-3', a0, b0, 400n, { pending: true }),
      usd('p-x', a0, c1, 10n, { pending: true }),
    ]);
    expect(holds.map((result) => result.status)).toEqual(['ok', 'ok', 'insufficient_funds', 'ok']);
    expect((await ledger.lookupAccounts([a0]))[0]).toMatchObject({
      debitsPending: 710n,
      available: 290n,
      balance: 1000n,
    });
    expect((await ledger.lookupAccounts([c1]))[0]).toMatchObject({
      creditsPending: 10n,
      balance: 0n,
    });
    expect(
      (await ledger.voidPendingTransfers([{ id: 'void-x', pendingId: 'p-x' }]))[0]?.status,
    ).toBe('ok');
    expect((await ledger.lookupTransfers(['p-x']))[0]).toMatchObject({
      state: 'voided',
      crossShard: true,
    });

    const posted = await ledger.postPendingTransfers([
      { id: 'post-1', pendingId: 'p-1', amount: 250n },
      { id: 'post-x', pendingId: 'nothing' },
    ]);
    expect(posted.map((result) => result.status)).toEqual(['ok', 'pending_not_found']);
    const voided = await ledger.voidPendingTransfers([
      { id: 'void-2', pendingId: 'p-2' },
      { id: 'void-1', pendingId: 'p-1' },
    ]);
    expect(voided.map((result) => result.status)).toEqual(['ok', 'pending_already_posted']);
    expect(
      (await ledger.postPendingTransfers([{ id: 'post-1', pendingId: 'p-1', amount: 250n }]))[0]
        ?.status,
    ).toBe('exists');

    const [a, b] = await ledger.lookupAccounts([a0, b0]);
    expect(a).toMatchObject({
      debitsPosted: 250n,
      debitsPending: 0n,
      balance: 750n,
      available: 750n,
    });
    expect(b).toMatchObject({ creditsPosted: 250n, creditsPending: 0n });
    const [p1, p2] = await ledger.lookupTransfers(['p-1', 'p-2']);
    expect(p1).toMatchObject({ state: 'posted', postedAmount: 250n });
    expect(p2).toMatchObject({ state: 'voided' });
    expect((await ledger.verify()).ok).toBe(true);
  });

  it('reads its own cross-shard writes at once, though the saga commit steps go out after the call is answered', async () => {
    const ledger = await openLedger();
    const { bank, a0, c1, d2 } = await seed(ledger);
    expect((await ledger.createTransfer(usd('fund-a0', bank, a0, 500n))).status).toBe('ok');
    // a0 (shard 0) pays c1 (shard 1): a saga. Its commit steps are queued when the call returns.
    expect(
      (await ledger.createTransfers([usd('x-1', a0, c1, 300n), usd('x-2', a0, d2, 50n)])).map(
        (result) => result.status,
      ),
    ).toEqual(['ok', 'ok']);
    // No verify(), no wait: the lookups are answered after the commit steps, never before.
    const [payer, payee, other] = await ledger.lookupAccounts([a0, c1, d2]);
    expect(payer).toMatchObject({ debitsPosted: 350n, debitsPending: 0n, balance: 150n });
    expect(payee).toMatchObject({ creditsPosted: 300n, creditsPending: 0n });
    expect(other).toMatchObject({ creditsPosted: 50n, creditsPending: 0n });
    expect((await ledger.lookupTransfers(['x-1', 'x-2'])).map((record) => record?.state)).toEqual([
      'posted',
      'posted',
    ]);
    // And c1 (debitsMustNotExceedCredits) spends the credit straight away, on its own shard and across.
    expect(
      (await ledger.createTransfers([usd('spend-1', c1, d2, 200n)])).map((result) => result.status),
    ).toEqual(['ok']);
    expect(
      (await ledger.createTransfers([usd('spend-2', c1, a0, 100n)])).map((result) => result.status),
    ).toEqual(['ok']);
    expect(
      (await ledger.createTransfers([usd('spend-3', c1, a0, 1n)])).map((result) => result.status),
    ).toEqual(['insufficient_funds']);
    const totals = await ledgerTotals(ledger);
    expect(totals.debitsPosted).toBe(totals.creditsPosted);
    expect((await ledger.verify()).ok).toBe(true);
  });

  it('applies a same-shard atomic group all or nothing', async () => {
    const ledger = await openLedger();
    const { bank, a0, b0 } = await seed(ledger);
    const refused = await ledger.createAtomicGroup([
      usd('g-1', bank, a0, 100n),
      usd('g-2', a0, b0, 101n),
    ]);
    expect(refused.map((result) => result.status)).toEqual([
      'linked_transfer_failed',
      'insufficient_funds',
    ]);
    expect(await ledger.lookupTransfers(['g-1', 'g-2'])).toEqual([undefined, undefined]);
    expect((await ledger.lookupAccounts([a0]))[0]?.creditsPosted).toBe(0n);

    // Within a group a later member may spend what an earlier one brought.
    const applied = await ledger.createAtomicGroup([
      usd('g-1', bank, a0, 100n),
      usd('g-2', a0, b0, 100n),
    ]);
    expect(applied.map((result) => result.status)).toEqual(['ok', 'ok']);
    expect((await ledger.lookupAccounts([a0, b0])).map((account) => account?.balance)).toEqual([
      0n,
      100n,
    ]);
    expect(
      (await ledger.createAtomicGroup([usd('g-1', bank, a0, 100n), usd('g-2', a0, b0, 100n)])).map(
        (r) => r.status,
      ),
    ).toEqual(['exists', 'exists']);
    expect(await ledger.createAtomicGroup([])).toEqual([]);
  });

  it('applies a cross-shard atomic group all or nothing, and releases every reservation of a refused one', async () => {
    const ledger = await openLedger();
    const { bank, a0, c1, d2 } = await seed(ledger);
    await ledger.createTransfer(usd('fund-c', bank, c1, 50n));
    const before = await ledger.lookupAccounts([bank, a0, c1, d2]);

    const refused = await ledger.createAtomicGroup([
      usd('x-1', bank, d2, 10n),
      usd('x-2', c1, a0, 51n),
      usd('x-3', bank, a0, 5n),
    ]);
    expect(refused.map((result) => result.status)).toEqual([
      'linked_transfer_failed',
      'insufficient_funds',
      'linked_transfer_failed',
    ]);
    expect(await ledger.lookupTransfers(['x-1', 'x-2', 'x-3'])).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(await ledger.lookupAccounts([bank, a0, c1, d2])).toEqual(before);
    expect((await ledgerTotals(ledger)).reservationsOpen).toBe(0);

    const applied = await ledger.createAtomicGroup([
      usd('x-1', bank, d2, 10n),
      usd('x-2', c1, a0, 50n),
      usd('x-3', bank, a0, 5n),
    ]);
    expect(applied.map((result) => result.status)).toEqual(['ok', 'ok', 'ok']);
    const after = await ledger.lookupAccounts([bank, a0, c1, d2]);
    expect(after.map((account) => account?.balance)).toEqual([-65n, 55n, 0n, 10n]);
    const transfers = await ledger.lookupTransfers(['x-1', 'x-2', 'x-3']);
    expect(transfers.map((transfer) => [transfer?.state, transfer?.crossShard])).toEqual([
      ['posted', true],
      ['posted', true],
      ['posted', false],
    ]);
    // A cross-shard group with a pending member is refused whole.
    const pending = await ledger.createAtomicGroup([
      usd('y-1', bank, d2, 1n, { pending: true }),
      usd('y-2', bank, c1, 1n),
    ]);
    expect(pending.map((result) => result.status)).toEqual([
      'cross_shard_pending_unsupported',
      'linked_transfer_failed',
    ]);
    const totals = await ledgerTotals(ledger);
    expect(totals.debitsPosted).toBe(totals.creditsPosted);
    expect(totals.reservationsOpen).toBe(0);
    expect((await ledger.verify()).ok).toBe(true);
  });
});
