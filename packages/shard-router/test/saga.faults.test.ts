// Goal: a cross-shard saga stopped at any step settles to one consistent outcome; method: failpoints (throw in the main thread, exit-worker in a shard worker) on a real 2-shard ledger.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Ledger, isLedgerError, type TransferInput } from '../src/index.js';
import { armFailpoint, disarmAllFailpoints, failpointNames } from '../src/testing.js';
import { tempDir } from '@shardledger/ledger-core/testing';
import { idOnShard, ledgerTotals } from './ledger-fixtures.js';

let ledger: Ledger;
let cleanup: () => Promise<void>;
const taken = new Set<string>();

beforeAll(async () => {
  const temp = await tempDir('saga-faults');
  cleanup = temp.cleanup;
  ledger = await Ledger.open({ dir: temp.dir, shards: 2, durability: 'strict' });
});
afterEach(() => {
  disarmAllFailpoints();
});
afterAll(async () => {
  disarmAllFailpoints();
  await ledger?.close();
  await cleanup?.();
});

interface Pair {
  readonly payer: string;
  readonly payee: string;
  readonly transfer: TransferInput;
}

/** A funded payer on `payerShard` (debitsMustNotExceedCredits, 1000 in) and a payee on the other
 * shard; a payee limited by creditsMustNotExceedDebits refuses the credit leg (exceeds_debits). */
async function pair(
  name: string,
  options: { payerShard: number; payeeRefuses: boolean },
): Promise<Pair> {
  const payer = idOnShard(ledger, options.payerShard, `${name}-payer`, taken);
  const payee = idOnShard(ledger, 1 - options.payerShard, `${name}-payee`, taken);
  const bank = idOnShard(ledger, options.payerShard, `${name}-bank`, taken);
  const created = await ledger.createAccounts([
    { id: bank, currency: 'USD' },
    { id: payer, currency: 'USD', debitsMustNotExceedCredits: true },
    {
      id: payee,
      currency: 'USD',
      ...(options.payeeRefuses ? { creditsMustNotExceedDebits: true } : {}),
    },
  ]);
  expect(created.map((result) => result.status)).toEqual(['ok', 'ok', 'ok']);
  expect(
    (
      await ledger.createTransfer({
        id: `${name}-fund`,
        debitAccountId: bank,
        creditAccountId: payer,
        amount: 1000n,
        currency: 'USD',
      })
    ).status,
  ).toBe('ok');
  return {
    payer,
    payee,
    transfer: {
      id: `${name}-t`,
      debitAccountId: payer,
      creditAccountId: payee,
      amount: 100n,
      currency: 'USD',
    },
  };
}

/** What the call gave: its status, or the code it rejected with. */
async function outcomeOf(
  call: Promise<{ status: string }>,
): Promise<{ status?: string; error?: string }> {
  try {
    return { status: (await call).status };
  } catch (error) {
    return { error: isLedgerError(error) ? error.code : String(error) };
  }
}

/** verify() first settles sagas in doubt; then nothing may be left open and money is conserved. */
async function expectSettledAndConserved(): Promise<void> {
  const report = await ledger.verify();
  expect(report.violations).toEqual([]);
  expect(report.ok).toBe(true);
  const totals = await ledgerTotals(ledger);
  expect(totals.reservationsOpen).toBe(0);
  expect(totals.debitsPending).toBe(0n);
  expect(totals.creditsPending).toBe(0n);
  expect(totals.debitsPosted).toBe(totals.creditsPosted);
}

/** The payer's and payee's balances equal `applied` transfers of 100 having gone through. */
async function expectApplied({ payer, payee, transfer }: Pair, applied: 0 | 1): Promise<void> {
  const [payerAccount, payeeAccount] = await ledger.lookupAccounts([payer, payee]);
  expect(payerAccount).toMatchObject({
    balance: 1000n - 100n * BigInt(applied),
    debitsPending: 0n,
  });
  expect(payeeAccount).toMatchObject({ creditsPosted: 100n * BigInt(applied), creditsPending: 0n });
  const [record] = await ledger.lookupTransfers([transfer.id]);
  if (applied === 1)
    expect(record).toMatchObject({ state: 'posted', amount: 100n, crossShard: true });
  else expect(record).toBeUndefined();
}

describe('saga failpoints armed with throw in the main thread', () => {
  it('rolls back a saga stopped before reserving, and a retry applies it', async () => {
    const subject = await pair('reserve-before', { payerShard: 0, payeeRefuses: false });
    armFailpoint(failpointNames.sagaReserveBefore, { action: 'throw' });
    expect(await outcomeOf(ledger.createTransfer(subject.transfer))).toEqual({
      error: 'FAILPOINT',
    });
    await expectSettledAndConserved();
    await expectApplied(subject, 0);
    expect((await ledger.createTransfer(subject.transfer)).status).toBe('ok');
    await expectApplied(subject, 1);
    await expectSettledAndConserved();
  });

  for (const [name, point] of [
    ['after reserving', failpointNames.sagaReserveAfter],
    ['before committing', failpointNames.sagaCommitBefore],
    ['after committing', failpointNames.sagaCommitAfter],
  ] as const) {
    it(`rolls a saga stopped ${name} forward, and a retry returns exists`, async () => {
      const subject = await pair(point.replaceAll('.', '-'), {
        payerShard: 1,
        payeeRefuses: false,
      });
      armFailpoint(point, { action: 'throw' });
      expect(await outcomeOf(ledger.createTransfer(subject.transfer))).toEqual({
        error: 'FAILPOINT',
      });
      await expectSettledAndConserved();
      await expectApplied(subject, 1);
      expect((await ledger.createTransfer(subject.transfer)).status).toBe('exists');
      await expectApplied(subject, 1);
      await expectSettledAndConserved();
    });
  }

  for (const [name, point] of [
    ['before releasing', failpointNames.sagaReleaseBefore],
    ['after releasing', failpointNames.sagaReleaseAfter],
  ] as const) {
    it(`rolls back a saga with a refused credit leg stopped ${name}, and a retry is decided afresh`, async () => {
      const subject = await pair(point.replaceAll('.', '-'), { payerShard: 0, payeeRefuses: true });
      armFailpoint(point, { action: 'throw' });
      expect(await outcomeOf(ledger.createTransfer(subject.transfer))).toEqual({
        error: 'FAILPOINT',
      });
      await expectSettledAndConserved();
      await expectApplied(subject, 0);
      // Still refused: the payee has no debits yet.
      expect((await ledger.createTransfer(subject.transfer)).status).toBe('exceeds_debits');
      await expectApplied(subject, 0);
      // Once the payee has debits of its own, the same id goes through: nothing was left holding it.
      const sink = idOnShard(ledger, 1, `${point}-sink`, taken);
      await ledger.createAccounts([{ id: sink, currency: 'USD' }]);
      await ledger.createTransfer({
        id: `${point}-out`,
        debitAccountId: subject.payee,
        creditAccountId: sink,
        amount: 100n,
        currency: 'USD',
      });
      expect((await ledger.createTransfer(subject.transfer)).status).toBe('ok');
      const [record] = await ledger.lookupTransfers([subject.transfer.id]);
      expect(record).toMatchObject({ state: 'posted', amount: 100n });
      await expectSettledAndConserved();
    });
  }

  it('reports the refusal itself when the release steps run unharmed', async () => {
    const subject = await pair('release-clean', { payerShard: 1, payeeRefuses: true });
    expect((await ledger.createTransfer(subject.transfer)).status).toBe('exceeds_debits');
    await expectSettledAndConserved();
    await expectApplied(subject, 0);
  });
});

describe('shard workers that exit in the middle of a saga step', () => {
  const cases = [
    { point: failpointNames.shardSubmitBeforeAppend, side: 'debit', step: 'reserve', after: 1 },
    { point: failpointNames.shardSubmitBeforeAppend, side: 'credit', step: 'reserve', after: 1 },
    { point: failpointNames.shardSubmitBeforeAppend, side: 'debit', step: 'commit', after: 2 },
    {
      point: failpointNames.shardSubmitAfterCommitBeforeReply,
      side: 'debit',
      step: 'reserve',
      after: 1,
    },
    {
      point: failpointNames.shardSubmitAfterCommitBeforeReply,
      side: 'credit',
      step: 'reserve',
      after: 1,
    },
    {
      point: failpointNames.shardSubmitAfterCommitBeforeReply,
      side: 'credit',
      step: 'commit',
      after: 2,
    },
  ] as const;
  for (const { point, side, step, after } of cases) {
    it(`settles once when the ${side} shard's worker exits at ${point} during the ${step} step, and a retry returns exists`, async () => {
      const name = `${point.replaceAll('.', '-')}-${side}-${step}`;
      const subject = await pair(name, { payerShard: 0, payeeRefuses: false });
      const client = ledger.shardClient(side === 'debit' ? 0 : 1);
      const generation = client.generation;
      await client.armFailpoint(point, { action: 'exit-worker', after });
      const first = await outcomeOf(ledger.createTransfer(subject.transfer));
      // The saga retries a step while its shard restarts, so the call normally succeeds; a
      // retryable rejection is allowed too. Either way the outcome below is the same.
      expect([{ status: 'ok' }, { error: 'SHARD_UNAVAILABLE' }]).toContainEqual(first);
      // The commit step goes out after the caller is answered: once verify() has settled it,
      // the worker has exited at the failpoint and been replaced exactly once.
      await expectSettledAndConserved();
      expect(client.generation).toBe(generation + 1);
      await expectApplied(subject, 1);
      expect((await ledger.createTransfer(subject.transfer)).status).toBe('exists');
      await expectSettledAndConserved();
    });
  }

  it('settles every saga of a multi-transfer call once when the debit shard exits before appending its message', async () => {
    const [first, refused, third] = [
      await pair('batch-first', { payerShard: 0, payeeRefuses: false }),
      await pair('batch-refused', { payerShard: 0, payeeRefuses: true }),
      await pair('batch-third', { payerShard: 0, payeeRefuses: false }),
    ];
    const client = ledger.shardClient(0);
    const generation = client.generation;
    await client.armFailpoint(failpointNames.shardSubmitBeforeAppend, { action: 'exit-worker' });
    // The call's message to shard 0 holds only the three reservations: they are re-sent to the
    // new worker, so the call is answered, each transfer as it would be alone.
    const results = await ledger.createTransfers([
      first.transfer,
      refused.transfer,
      third.transfer,
    ]);
    expect(results.map((result) => result.status)).toEqual(['ok', 'exceeds_debits', 'ok']);
    expect(client.generation).toBe(generation + 1);
    await expectSettledAndConserved();
    await expectApplied(first, 1);
    await expectApplied(refused, 0);
    await expectApplied(third, 1);
    const again = await ledger.createTransfers([first.transfer, refused.transfer, third.transfer]);
    expect(again.map((result) => result.status)).toEqual(['exists', 'exceeds_debits', 'exists']);
    await expectSettledAndConserved();
  });

  it('fails a call whose local transfer is in doubt, yet settles its sagas, when the shard exits mid-message', async () => {
    const subject = await pair('mixed-saga', { payerShard: 0, payeeRefuses: false });
    const localPayee = idOnShard(ledger, 0, 'mixed-local-payee', taken);
    await ledger.createAccounts([{ id: localPayee, currency: 'USD' }]);
    const local: TransferInput = {
      id: 'mixed-local-t',
      debitAccountId: subject.payer,
      creditAccountId: localPayee,
      amount: 50n,
      currency: 'USD',
    };
    const client = ledger.shardClient(0);
    await client.armFailpoint(failpointNames.shardSubmitBeforeAppend, { action: 'exit-worker' });
    // Shard 0's message holds the local transfer and the saga's debit reservation.
    expect(
      await outcomeOf(
        ledger
          .createTransfers([local, subject.transfer])
          .then(([result]) => result as { status: string }),
      ),
    ).toEqual({
      error: 'SHARD_UNAVAILABLE',
    });
    await expectSettledAndConserved();
    // The saga was finished by the call (its reservation re-sent); the local transfer never landed.
    await expectApplied(subject, 1);
    expect(await ledger.lookupTransfers([local.id])).toEqual([undefined]);
    const retry = await ledger.createTransfers([local, subject.transfer]);
    expect(retry.map((result) => result.status)).toEqual(['ok', 'exists']);
    await expectSettledAndConserved();
  });

  it('commits, and answers ok, when both workers exit after committing their reservation, before replying', async () => {
    const subject = await pair('both-lost', { payerShard: 0, payeeRefuses: false });
    await Promise.all(
      [0, 1].map((shard) =>
        ledger.shardClient(shard).armFailpoint(failpointNames.shardSubmitAfterCommitBeforeReply, {
          action: 'exit-worker',
        }),
      ),
    );
    // Both re-sent ReserveFunds answer exists; this saga's own reservations must still commit.
    expect(await outcomeOf(ledger.createTransfer(subject.transfer))).toEqual({ status: 'ok' });
    await expectSettledAndConserved();
    await expectApplied(subject, 1);
    expect((await ledger.createTransfer(subject.transfer)).status).toBe('exists');
  });

  it('releases the reservation whose reply was lost when the credit leg is refused', async () => {
    const subject = await pair('lost-release', { payerShard: 1, payeeRefuses: true });
    await ledger
      .shardClient(1)
      .armFailpoint(failpointNames.shardSubmitAfterCommitBeforeReply, { action: 'exit-worker' });
    expect(await outcomeOf(ledger.createTransfer(subject.transfer))).toEqual({
      status: 'exceeds_debits',
    });
    await expectSettledAndConserved();
    await expectApplied(subject, 0);
  });
});
