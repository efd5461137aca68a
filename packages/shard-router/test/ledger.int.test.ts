// Goal: the public Ledger contract holds; method: real 4-shard ledgers (compiled workers, LMDB in mkdtemp dirs).
import { spawnSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseTransfer } from '@shardledger/ledger-core';
import { Ledger, type TransferInput } from '../src/index.js';
import { tempDir } from '@shardledger/ledger-core/testing';
import { errorCodeOf, idOnShard, ledgerTotals } from './ledger-fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
const open: Ledger[] = [];

async function openLedger(options: { shards?: number } = { shards: 4 }): Promise<Ledger> {
  const ledger = await Ledger.open({ dir, durability: 'strict', ...options });
  open.push(ledger);
  return ledger;
}

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir('ledger-int'));
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((ledger) => ledger.close()));
  await cleanup();
});

/** Two accounts on shard 0, one on shard 1, one on shard 2, plus a funding account on shard 0. */
async function seed(
  ledger: Ledger,
): Promise<{ bank: string; a0: string; b0: string; c1: string; d2: string }> {
  const taken = new Set<string>();
  const bank = idOnShard(ledger, 0, 'bank', taken);
  const a0 = idOnShard(ledger, 0, 'acct', taken);
  const b0 = idOnShard(ledger, 0, 'acct', taken);
  const c1 = idOnShard(ledger, 1, 'acct', taken);
  const d2 = idOnShard(ledger, 2, 'acct', taken);
  const results = await ledger.createAccounts([
    { id: bank, currency: 'USD' },
    { id: a0, currency: 'USD', debitsMustNotExceedCredits: true },
    { id: b0, currency: 'USD', debitsMustNotExceedCredits: true },
    { id: c1, currency: 'USD', debitsMustNotExceedCredits: true },
    { id: d2, currency: 'USD' },
  ]);
  expect(results.map((result) => result.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
  return { bank, a0, b0, c1, d2 };
}

function usd(
  id: string,
  debitAccountId: string,
  creditAccountId: string,
  amount: bigint,
  extra: Partial<TransferInput> = {},
): TransferInput {
  return { id, debitAccountId, creditAccountId, amount, currency: 'USD', ...extra };
}

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

  it('serves account history and balance as of a past sequence or timestamp through the Ledger', async () => {
    const ledger = await openLedger();
    const { bank, a0, c1 } = await seed(ledger);
    await ledger.createTransfer(usd('h-1', bank, a0, 100n));
    await ledger.createTransfer(usd('h-2', bank, a0, 200n));
    await ledger.createTransfer(usd('h-3', a0, c1, 50n)); // cross-shard: reserved, then committed

    const page = await ledger.accountHistory(a0);
    const ids = page.entries.map((entry) => entry.transferId);
    expect(ids.slice(0, 2)).toEqual(['h-1', 'h-2']);
    expect(ids.every((id) => ['h-1', 'h-2', 'h-3'].includes(id))).toBe(true);
    const last = page.entries[page.entries.length - 1];
    expect(last).toMatchObject({
      transferId: 'h-3',
      debitsPosted: 50n,
      creditsPosted: 300n,
      debitsPending: 0n,
    });
    const sequences = page.entries.map((entry) => entry.sequence);
    expect([...sequences].sort((left, right) => left - right)).toEqual(sequences);

    const firstPage = await ledger.accountHistory(a0, { limit: 1 });
    expect(firstPage.entries.map((entry) => entry.transferId)).toEqual(['h-1']);
    expect(firstPage.next).not.toBeNull();
    const secondPage = await ledger.accountHistory(a0, {
      after: firstPage.next,
      limit: 1,
    });
    expect(secondPage.entries.map((entry) => entry.transferId)).toEqual(['h-2']);

    const afterFirst = page.entries[0];
    expect(afterFirst).toBeDefined();
    const asOfSequence = await ledger.balanceAsOf(a0, { sequence: afterFirst?.sequence as number });
    expect(asOfSequence).toMatchObject({
      id: a0,
      creditsPosted: 100n,
      debitsPosted: 0n,
      balance: 100n,
    });
    const asOfTimestamp = await ledger.balanceAsOf(a0, {
      timestamp: page.entries[1]?.timestamp as bigint,
    });
    expect(asOfTimestamp).toMatchObject({ creditsPosted: 300n, balance: 300n });
    const now = await ledger.balanceAsOf(a0, {});
    expect(now?.balance).toBe(250n);
    expect(await ledger.balanceAsOf('ghost', {})).toBeUndefined();
    expect((await ledger.accountHistory('ghost')).entries).toEqual([]);
  });

  it('verifies clean with the documented shape on an empty ledger and after mixed traffic', async () => {
    const ledger = await openLedger();
    const empty = await ledger.verify();
    expect(empty).toEqual({ ok: true, violations: [], eventsReplayed: 0 });

    const { bank, a0, c1, d2 } = await seed(ledger);
    await ledger.createTransfers([
      usd('v-1', bank, a0, 10n),
      usd('v-2', bank, c1, 10n),
      usd('v-3', d2, c1, 11n),
      usd('v-4', a0, d2, 3n),
    ]);
    const report = await ledger.verify();
    expect(report.ok).toBe(true);
    expect(Array.isArray(report.violations)).toBe(true);
    expect(report.violations).toHaveLength(0);
    expect(report.eventsReplayed).toBeGreaterThanOrEqual(5 + 3);
    const info = await ledger.info();
    expect(info).toMatchObject({
      dir,
      shards: 4,
      durability: 'strict',
      recovery: { sagasCommitted: 0, sagasReleased: 0 },
    });
    expect(info.shardInfo).toHaveLength(4);
    const totals = await ledgerTotals(ledger);
    expect(totals).toMatchObject({
      debitsPosted: 34n,
      creditsPosted: 34n,
      debitsPending: 0n,
      creditsPending: 0n,
      reservationsOpen: 0,
    });
    expect(await ledger.snapshot()).toHaveLength(4);
    expect((await ledger.verify()).ok).toBe(true);
  });

  it('reports an orphan reservation as violations without throwing, and the next open rolls it back', async () => {
    const ledger = await openLedger();
    const { bank, c1 } = await seed(ledger);
    // A saga that reserved its debit leg on shard 0 and then vanished before touching shard 1:
    // the ReserveFunds step is sent straight to the shard, as the coordinator would.
    const parsed = parseTransfer(usd('orphan-1', bank, c1, 70n));
    if (!parsed.ok) throw new Error(parsed.code);
    const [reserved] = await ledger.shardClient(0).submit([
      {
        type: 'ReserveFunds',
        sagaId: 'orphan-saga',
        participants: [0, 1],
        legs: [{ side: 'debit', transfer: parsed.value }],
      },
    ]);
    expect(reserved?.status).toBe('ok');

    const report = await ledger.verify();
    expect(report.ok).toBe(false);
    const rules = report.violations.map((violation) => [violation.rule, violation.shard]);
    expect(rules).toContainEqual(['no_open_reservations', 0]);
    expect(rules).toContainEqual(['pending_debits_equal_pending_credits', null]);
    for (const violation of report.violations) expect(typeof violation.detail).toBe('string');
    await ledger.close();
    open.pop();

    // Shard 1 never heard of the saga, so recovery releases it everywhere.
    const reopened = await openLedger();
    expect((await reopened.info()).recovery).toEqual({ sagasCommitted: 0, sagasReleased: 1 });
    expect(await reopened.verify()).toMatchObject({ ok: true, violations: [] });
    expect((await reopened.lookupAccounts([bank]))[0]).toMatchObject({
      debitsPending: 0n,
      debitsPosted: 0n,
    });
    expect((await reopened.lookupTransfers(['orphan-1']))[0]).toBeUndefined();
    // The id was freed by the rollback: a retry applies now.
    expect((await reopened.createTransfer(usd('orphan-1', bank, c1, 70n))).status).toBe('ok');
  });
});
