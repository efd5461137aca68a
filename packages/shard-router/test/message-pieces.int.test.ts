// Goal: a call larger than one shard message (shardMessageMax commands) gives the answers and
// balances that the same transfers give in calls small enough to go as one message each, sent
// one after the other: the pieces of a call are applied in order, a repeated id is found in an
// earlier piece, a balance limit sees what earlier pieces moved, and holds stay open. Method: two
// real ledgers on temp dirs fed the same 8,190 transfers (random hex ids, a repeat now and then
// of an id thousands of positions back, with the same or other fields, some holds), one in a
// single call and one in calls of 1,000; on one shard with limited accounts, and on two shards.
// And a shard's worker that exits after committing the second piece of a call, before answering
// it: the call fails as in doubt, the reservations that piece held are sent again and settled,
// and a retry of the call finds every transfer applied once.
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '@shardledger/ledger-core/testing';
import { Ledger, type TransferInput } from '../src/index.js';
import { failpointNames } from '../src/failpoints.js';
import { shardMessageMax } from '../src/write/routed-segment.js';
import { ledgerTotals } from './ledger-fixtures.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

/** The most one call may hold: a call of several messages on each shard here. */
const COUNT = 8_190;
const ACCOUNTS = 24;

/** A deterministic stream of 32-bit numbers. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state;
  };
}

/** The call: `shardOf` places accounts, so that only transfers within one shard are repeated (a
 * repeat of a transfer between shards whose saga is still open in the same call is answered
 * transfer_in_flight, where a later call finds it done). */
function transfers(limited: boolean, shardOf: (id: string) => number): TransferInput[] {
  const next = prng(7);
  const hex = (): string => next().toString(16).padStart(8, '0');
  const out: TransferInput[] = [];
  for (let index = 0; index < COUNT; index += 1) {
    const roll = next() % 100;
    const back = 2_000 + (next() % 4_000);
    const earlier = out[index - back];
    if (
      roll < 3 &&
      earlier !== undefined &&
      shardOf(earlier.debitAccountId as string) === shardOf(earlier.creditAccountId as string)
    ) {
      // A repeat of an id thousands of positions back: the same fields or another amount.
      out.push(roll < 2 ? earlier : { ...earlier, amount: BigInt(earlier.amount) + 1n });
      continue;
    }
    const debit = next() % ACCOUNTS;
    const credit = (debit + 1 + (next() % (ACCOUNTS - 1))) % ACCOUNTS;
    // With limits on, the first four accounts may not spend more than they received, so that
    // whether one of their transfers passes depends on the transfers before it.
    const amount = BigInt(1 + (next() % (limited && debit < 4 ? 400 : 50)));
    out.push({
      id: `${hex()}-${hex()}-${index}`,
      debitAccountId: `acct-${debit}`,
      creditAccountId: `acct-${credit}`,
      amount,
      currency: 'EUR',
      ...(roll >= 95 ? { pending: true, timeoutMs: 3_600_000 } : {}),
    });
  }
  return out;
}

async function run(
  shards: number,
  limited: boolean,
  callSize: number,
): Promise<{ statuses: string[]; balances: bigint[][] }> {
  const { dir, cleanup } = await tempDir('message-pieces');
  cleanups.push(cleanup);
  const ledger = await Ledger.open({ dir, shards });
  try {
    const ids = Array.from({ length: ACCOUNTS }, (_, index) => `acct-${index}`);
    await ledger.createAccounts(
      ids.map((id, index) => ({
        id,
        currency: 'EUR',
        ...(limited && index < 4 ? { debitsMustNotExceedCredits: true } : {}),
      })),
    );
    const input = transfers(limited, (id) => ledger.shardOf(id));
    const statuses: string[] = [];
    for (let from = 0; from < input.length; from += callSize)
      for (const { status } of await ledger.createTransfers(input.slice(from, from + callSize)))
        statuses.push(status);
    const views = await ledger.lookupAccounts(ids);
    const balances = views.map((view) => {
      if (view === undefined) throw new Error('an account is missing');
      return [view.debitsPosted, view.creditsPosted, view.debitsPending, view.creditsPending];
    });
    expect((await ledger.verify()).violations).toEqual([]);
    return { statuses, balances };
  } finally {
    await ledger.close();
  }
}

describe('a call larger than one shard message', () => {
  it('is a call of several messages here', () => {
    expect(COUNT).toBeGreaterThan(shardMessageMax);
  });

  it.each([
    { shards: 1, limited: true },
    { shards: 2, limited: false },
  ])(
    'answers as calls of one message each ($shards shards)',
    async ({ shards, limited }) => {
      const whole = await run(shards, limited, COUNT);
      const small = await run(shards, limited, 1_000);
      expect(whole.statuses).toEqual(small.statuses);
      expect(whole.balances).toEqual(small.balances);
      // The workload exercises what it is meant to.
      const count = (status: string): number => whole.statuses.filter((s) => s === status).length;
      expect(count('ok')).toBeGreaterThan(COUNT / 2);
      expect(count('exists')).toBeGreaterThan(20);
      expect(count('exists_with_different_fields')).toBeGreaterThan(10);
      if (limited) expect(count('insufficient_funds')).toBeGreaterThan(20);
    },
    120_000,
  );

  it.each([1, 2])(
    "settles every transfer once when a shard's worker exits after committing a call's second piece (%i shards)",
    async (shards) => {
      const { dir, cleanup } = await tempDir('message-pieces-exit');
      cleanups.push(cleanup);
      const ledger = await Ledger.open({ dir, shards });
      try {
        const ids = Array.from({ length: ACCOUNTS }, (_, index) => `acct-${index}`);
        await ledger.createAccounts(ids.map((id) => ({ id, currency: 'EUR' })));
        const next = prng(11);
        // Ascending ids: the call is one segment, so shard 0 gets its share as two pieces.
        const input: TransferInput[] = Array.from({ length: COUNT }, (_, index) => {
          const debit = next() % ACCOUNTS;
          return {
            id: `t-${String(index).padStart(6, '0')}`,
            debitAccountId: `acct-${debit}`,
            creditAccountId: `acct-${(debit + 1 + (next() % (ACCOUNTS - 1))) % ACCOUNTS}`,
            amount: BigInt(1 + (next() % 50)),
            currency: 'EUR',
          };
        });
        const client = ledger.shardClient(0);
        const generation = client.generation;
        // The first piece is answered; the second is committed, then the worker exits before
        // answering it. Its transfers on shard 0 are in doubt: the call fails, retryable, and
        // the reservations it held (two shards) are sent again and settled.
        await client.armFailpoint(failpointNames.shardSubmitAfterCommitBeforeReply, {
          action: 'exit-worker',
          after: 2,
        });
        await expect(ledger.createTransfers(input)).rejects.toMatchObject({
          code: 'SHARD_UNAVAILABLE',
        });
        expect(client.generation).toBe(generation + 1);
        const retried = await ledger.createTransfers(input);
        expect(new Set(retried.map(({ status }) => status))).toEqual(new Set(['exists']));
        expect((await ledger.verify()).violations).toEqual([]);
        const totals = await ledgerTotals(ledger);
        expect(totals.reservationsOpen).toBe(0);
        expect(totals.debitsPending).toBe(0n);
        const sent = input.reduce((sum, transfer) => sum + BigInt(transfer.amount), 0n);
        expect(totals.debitsPosted).toBe(sent);
        expect(totals.creditsPosted).toBe(sent);
      } finally {
        await ledger.close();
      }
    },
    120_000,
  );
});
