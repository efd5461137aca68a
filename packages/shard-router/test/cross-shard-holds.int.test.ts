// Goal: a pending transfer between accounts of two shards (a cross-shard hold) behaves as one on
// a single shard: held on both sides, posted in full or in part or voided once, expired by its
// timeout (across a reopen too), and finished the same way after a failure or a SIGKILL between
// the deciding shard's step and the other's. Method: real 2-shard ledgers and real files; a child
// process killed at the saga.hold.decided failpoint.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Ledger } from '../src/index.js';
import { armFailpoint, disarmAllFailpoints } from '../src/testing.js';
import { sleep, tempDir } from '@shardledger/ledger-core/testing';
import { errorCodeOf, hold, idOnShard, ledgerTotals, runToExit } from './ledger-fixtures.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  disarmAllFailpoints();
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function openLedger(dir?: string): Promise<{ ledger: Ledger; dir: string }> {
  let path = dir;
  if (path === undefined) {
    const made = await tempDir('holds');
    cleanups.push(made.cleanup);
    path = made.dir;
  }
  const ledger = await Ledger.open({ dir: path, shards: 2 });
  cleanups.unshift(() => ledger.close());
  return { ledger, dir: path };
}

/** A funded wallet on shard 0 (may not be overdrawn) and a merchant on shard 1. */
async function seed(ledger: Ledger): Promise<{ wallet: string; merchant: string }> {
  const taken = new Set<string>();
  const bank = idOnShard(ledger, 0, 'bank', taken);
  const wallet = idOnShard(ledger, 0, 'wallet', taken);
  const merchant = idOnShard(ledger, 1, 'merchant', taken);
  await ledger.createAccounts([
    { id: bank, currency: 'EUR' },
    { id: wallet, currency: 'EUR', debitsMustNotExceedCredits: true },
    { id: merchant, currency: 'EUR' },
  ]);
  expect(
    (
      await ledger.createTransfer({
        id: 'fund',
        debitAccountId: bank,
        creditAccountId: wallet,
        amount: 1000n,
        currency: 'EUR',
      })
    ).status,
  ).toBe('ok');
  return { wallet, merchant };
}

async function expectClean(ledger: Ledger): Promise<void> {
  const report = await ledger.verify();
  expect(report.violations).toEqual([]);
  const totals = await ledgerTotals(ledger);
  expect(totals.debitsPosted).toBe(totals.creditsPosted);
  expect(totals.debitsPending).toBe(totals.creditsPending);
}

describe('cross-shard holds', () => {
  it('hold on both sides, post in part once, and refuse what one shard refuses', async () => {
    const { ledger } = await openLedger();
    const { wallet, merchant } = await seed(ledger);
    const holds = await ledger.createTransfers([
      hold('h-1', wallet, merchant, 700n),
      hold('h-2', wallet, merchant, 400n),
      hold('h-3', wallet, merchant, 300n),
    ]);
    // h-2 would overdraw the wallet: the holds count against what it has available.
    expect(holds.map((result) => result.status)).toEqual(['ok', 'insufficient_funds', 'ok']);
    expect((await ledger.createTransfer(hold('h-1', wallet, merchant, 700n))).status).toBe(
      'exists',
    );
    expect((await ledger.createTransfer(hold('h-1', wallet, merchant, 701n))).status).toBe(
      'exists_with_different_fields',
    );
    let [from, to] = await ledger.lookupAccounts([wallet, merchant]);
    expect(from).toMatchObject({ debitsPending: 1000n, available: 0n, balance: 1000n });
    expect(to).toMatchObject({ creditsPending: 1000n, balance: 0n });
    expect((await ledger.lookupTransfers(['h-1']))[0]).toMatchObject({
      state: 'pending',
      crossShard: true,
      amount: 700n,
    });

    const posted = await ledger.postPendingTransfers([
      { id: 'p-1', pendingId: 'h-1', amount: 701n },
      { id: 'p-2', pendingId: 'h-1', amount: 250n },
      { id: 'p-3', pendingId: 'nothing' },
    ]);
    expect(posted.map((result) => result.status)).toEqual([
      'amount_exceeds_pending',
      'ok',
      'pending_not_found',
    ]);
    [from, to] = await ledger.lookupAccounts([wallet, merchant]);
    expect(from).toMatchObject({
      debitsPending: 300n,
      debitsPosted: 250n,
      balance: 750n,
      available: 450n,
    });
    expect(to).toMatchObject({ creditsPending: 300n, creditsPosted: 250n, balance: 250n });
    expect(await ledger.lookupTransfers(['h-1', 'p-2'])).toMatchObject([
      { state: 'posted', postedAmount: 250n },
      { kind: 'post', pendingId: 'h-1', amount: 250n, state: 'posted' },
    ]);
    // Once: a retry of the post is `exists`, any other post or void of it is refused.
    expect(
      (await ledger.postPendingTransfers([{ id: 'p-2', pendingId: 'h-1', amount: 250n }]))[0]
        ?.status,
    ).toBe('exists');
    expect((await ledger.postPendingTransfers([{ id: 'p-4', pendingId: 'h-1' }]))[0]?.status).toBe(
      'pending_already_posted',
    );
    expect((await ledger.voidPendingTransfers([{ id: 'v-4', pendingId: 'h-1' }]))[0]?.status).toBe(
      'pending_already_posted',
    );
    // A void releases both sides; the post's id is taken for any other transfer.
    expect((await ledger.voidPendingTransfers([{ id: 'v-5', pendingId: 'h-3' }]))[0]?.status).toBe(
      'ok',
    );
    expect((await ledger.postPendingTransfers([{ id: 'p-6', pendingId: 'h-3' }]))[0]?.status).toBe(
      'pending_already_voided',
    );
    expect(
      (
        await ledger.createTransfer({
          id: 'p-2',
          debitAccountId: merchant,
          creditAccountId: wallet,
          amount: 1n,
          currency: 'EUR',
        })
      ).status,
    ).toBe('exists_with_different_fields');
    [from, to] = await ledger.lookupAccounts([wallet, merchant]);
    expect(from).toMatchObject({ debitsPending: 0n, available: 750n });
    expect(to).toMatchObject({ creditsPending: 0n, creditsPosted: 250n });
    await expectClean(ledger);
    expect((await ledgerTotals(ledger)).reservationsOpen).toBe(0);
  });

  it('expires a hold on both sides after its timeout, also when the ledger was closed meanwhile', async () => {
    const { ledger, dir } = await openLedger();
    const { wallet, merchant } = await seed(ledger);
    expect(
      (
        await ledger.createTransfers([
          hold('h-1', wallet, merchant, 100n, 200),
          hold('h-2', wallet, merchant, 50n, 1500),
        ])
      ).map((r) => r.status),
    ).toEqual(['ok', 'ok']);
    const info = await ledger.info();
    expect(info.shardInfo.map((shard) => shard.holdsOpen)).toEqual([2, 2]);
    await sleep(700);
    expect((await ledger.lookupTransfers(['h-1']))[0]?.state).toBe('expired');
    expect((await ledger.postPendingTransfers([{ id: 'p-1', pendingId: 'h-1' }]))[0]?.status).toBe(
      'pending_expired',
    );
    expect((await ledger.lookupAccounts([merchant]))[0]?.creditsPending).toBe(50n);
    await ledger.close();
    // h-2 times out while the ledger is closed: the reopened router expires it from the log.
    await sleep(1000);
    const { ledger: reopened } = await openLedger(dir);
    for (
      let waited = 0;
      waited < 3000 && (await reopened.lookupTransfers(['h-2']))[0]?.state !== 'expired';
      waited += 50
    ) {
      await sleep(50);
    }
    expect((await reopened.lookupTransfers(['h-2']))[0]?.state).toBe('expired');
    const [from, to] = await reopened.lookupAccounts([wallet, merchant]);
    expect(from).toMatchObject({ debitsPending: 0n, debitsPosted: 0n, available: 1000n });
    expect(to).toMatchObject({ creditsPending: 0n, creditsPosted: 0n });
    await expectClean(reopened);
  });

  it('finishes the other side with the amount decided when the call fails after the decision', async () => {
    const { ledger } = await openLedger();
    const { wallet, merchant } = await seed(ledger);
    expect((await ledger.createTransfer(hold('h-1', wallet, merchant, 500n))).status).toBe('ok');
    armFailpoint('saga.hold.decided', { action: 'throw' });
    expect(
      await errorCodeOf(
        ledger.postPendingTransfers([{ id: 'p-1', pendingId: 'h-1', amount: 120n }]),
      ),
    ).toBe('FAILPOINT');
    await expectClean(ledger); // verify() waits for the sagas left in doubt
    const [from, to] = await ledger.lookupAccounts([wallet, merchant]);
    expect(from).toMatchObject({ debitsPending: 0n, debitsPosted: 120n });
    expect(to).toMatchObject({ creditsPending: 0n, creditsPosted: 120n });
    // The side finished in the background records the post too: listed under its own id, and
    // dated when both shards hold it.
    const listed = async (accountId: string) =>
      (await ledger.accountHistory(accountId)).entries.map((entry) => [
        entry.transferId,
        entry.eventType,
      ]);
    expect(await listed(merchant)).toEqual([
      ['h-1', 'TransferCreated'],
      ['p-1', 'PendingTransferPosted'],
    ]);
    expect((await listed(wallet)).slice(-1)).toEqual([['p-1', 'PendingTransferPosted']]);
    const [post] = await ledger.lookupTransfers(['p-1']);
    const asOfPost = await ledger.balanceAsOf(merchant, { timestamp: post?.timestamp as bigint });
    expect(asOfPost).toMatchObject({ creditsPending: 0n, creditsPosted: 120n });
    expect(
      (await ledger.postPendingTransfers([{ id: 'p-1', pendingId: 'h-1', amount: 120n }]))[0]
        ?.status,
    ).toBe('exists');
  });

  it('after a SIGKILL between the deciding step and the other, reopening posts the amount decided on both sides', async () => {
    const { dir, cleanup } = await tempDir('holds-killed');
    cleanups.push(cleanup);
    const fixture = fileURLToPath(new URL('./fixtures/hold-killed.mjs', import.meta.url));
    const env = { ...process.env, SHARDLEDGER_FAILPOINTS: 'saga.hold.decided=kill-process' };
    const { stdout, stderr, signal } = await runToExit(fixture, [dir], env);
    expect(stderr).toBe('');
    expect(signal).toBe('SIGKILL');
    const payee = /^held (\S+)$/m.exec(stdout)?.[1];
    expect(payee).toBeDefined();
    expect(stdout).not.toContain('posted');

    const { ledger } = await openLedger(dir);
    const [from, to] = await ledger.lookupAccounts(['payer', payee as string]);
    expect(from).toMatchObject({ debitsPending: 0n, debitsPosted: 120n, balance: 880n });
    expect(to).toMatchObject({ creditsPending: 0n, creditsPosted: 120n, balance: 120n });
    expect(await ledger.lookupTransfers(['h-1', 'p-1'])).toMatchObject([
      { state: 'posted', postedAmount: 120n },
      { kind: 'post', amount: 120n },
    ]);
    // The open that finished the payee's side recorded the post there too, as one shard would.
    const entries = (await ledger.accountHistory(payee as string)).entries;
    expect(entries.map((entry) => [entry.transferId, entry.eventType])).toEqual([
      ['h-1', 'TransferCreated'],
      ['p-1', 'PendingTransferPosted'],
    ]);
    const [post] = await ledger.lookupTransfers(['p-1']);
    const asOfPost = await ledger.balanceAsOf(payee as string, {
      timestamp: post?.timestamp as bigint,
    });
    expect(asOfPost).toMatchObject({ creditsPending: 0n, creditsPosted: 120n });
    expect(
      (await ledger.postPendingTransfers([{ id: 'p-1', pendingId: 'h-1', amount: 120n }]))[0]
        ?.status,
    ).toBe('exists');
    await expectClean(ledger);
  });

  it('verify() reports a hold open on one of its shards only', async () => {
    const { ledger } = await openLedger();
    const { wallet, merchant } = await seed(ledger);
    expect((await ledger.createTransfer(hold('h-1', wallet, merchant, 10n))).status).toBe('ok');
    await expectClean(ledger);
    // Half a hold, written straight to the debit shard (as no Ledger call ever does).
    const transfer = {
      id: 'h-half',
      debitAccountId: wallet,
      creditAccountId: merchant,
      amount: 5n,
      currency: 'EUR',
      pending: true,
      timeoutMs: 0,
      metadata: null,
    };
    const [reserved] = await ledger.shardClient(0).submit([
      {
        type: 'ReserveFunds',
        sagaId: 'h-half~x',
        participants: [0, 1],
        legs: [{ side: 'debit', transfer }],
      },
    ]);
    expect(reserved?.status).toBe('ok');
    const report = await ledger.verify();
    expect(report.ok).toBe(false);
    expect(report.violations.map((violation) => violation.rule)).toContain(
      'holds_open_on_every_shard',
    );
  });
});
