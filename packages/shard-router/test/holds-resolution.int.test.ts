// Goal: posts and voids find the hold they name wherever it lives, and answer as its shard
// decides: a hold open on its shard is found in the shards' memory, every other id (a hold across
// shards, one already posted, voided or expired, a transfer that is not pending, an unknown id)
// through the records, and where ids are unique per shard (transferIdScope 'shard') every id
// through the records. One call mixes them all, on one shard and on two shards with either
// scope, and the answers and balances must be the same. Method: real ledgers on temp dirs.
import { afterEach, describe, expect, it } from 'vitest';
import { sleep, tempDir } from '@shardledger/ledger-core/testing';
import { Ledger } from '../src/index.js';
import { hold, idOnShard } from './ledger-fixtures.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

interface Outcome {
  readonly posts: string[];
  readonly voids: string[];
  /** Per account role, its four counters. */
  readonly balances: Record<string, [bigint, bigint, bigint, bigint]>;
}

/** Holds of every kind, resolved in one call of posts and one of voids. */
async function resolveEveryKind(options: {
  shards: number;
  transferIdScope?: 'ledger' | 'shard';
}): Promise<Outcome> {
  const { dir, cleanup } = await tempDir('holds-resolution');
  cleanups.push(cleanup);
  const ledger = await Ledger.open({ dir, ...options });
  try {
    const taken = new Set<string>();
    const roles = {
      a0: idOnShard(ledger, 0, 'a0', taken),
      b0: idOnShard(ledger, 0, 'b0', taken),
      a1: idOnShard(ledger, 1 % options.shards, 'a1', taken),
      b1: idOnShard(ledger, 1 % options.shards, 'b1', taken),
    };
    await ledger.createAccounts(Object.values(roles).map((id) => ({ id, currency: 'EUR' })));
    const { a0, b0, a1, b1 } = roles;
    const created = await ledger.createTransfers([
      hold('h0', a0, b0, 100n),
      hold('h1', a1, b1, 100n),
      hold('hx', a0, b1, 100n),
      hold('hp', a0, b0, 10n),
      hold('hv', a1, b1, 10n),
      hold('he', a0, b0, 10n, 1),
      hold('v0', a0, b0, 30n),
      hold('vx', a1, b0, 30n),
      { id: 'plain', debitAccountId: a0, creditAccountId: b0, amount: 5n, currency: 'EUR' },
    ]);
    expect(created.map(({ status }) => status)).toEqual(new Array(9).fill('ok'));
    expect(
      (await ledger.postPendingTransfers([{ id: 'first-post', pendingId: 'hp' }]))[0]?.status,
    ).toBe('ok');
    expect(
      (await ledger.voidPendingTransfers([{ id: 'first-void', pendingId: 'hv' }]))[0]?.status,
    ).toBe('ok');
    // The 1 ms hold expires on its shard's timer.
    for (
      let waited = 0;
      (await ledger.lookupTransfers(['he']))[0]?.state !== 'expired';
      waited += 10
    ) {
      expect(waited).toBeLessThan(10_000);
      await sleep(10);
    }
    const posts = await ledger.postPendingTransfers([
      { id: 'p-h0', pendingId: 'h0', amount: 60n },
      { id: 'p-h1', pendingId: 'h1' },
      { id: 'p-hx', pendingId: 'hx' },
      { id: 'p-hp', pendingId: 'hp' },
      { id: 'p-hv', pendingId: 'hv' },
      { id: 'p-he', pendingId: 'he' },
      { id: 'p-plain', pendingId: 'plain' },
      { id: 'p-none', pendingId: 'none' },
      { id: 'p-h1-again', pendingId: 'h1' },
      { id: 'p-v0', pendingId: 'v0', amount: 500n },
    ]);
    const voids = await ledger.voidPendingTransfers([
      { id: 'x-v0', pendingId: 'v0' },
      { id: 'x-vx', pendingId: 'vx' },
      { id: 'x-h0', pendingId: 'h0' },
      { id: 'x-none', pendingId: 'none' },
    ]);
    const views = await ledger.lookupAccounts(Object.values(roles));
    const balances = Object.fromEntries(
      Object.keys(roles).map((role, index) => {
        const view = views[index];
        if (view === undefined) throw new Error(`no account ${role}`);
        return [
          role,
          [view.debitsPosted, view.creditsPosted, view.debitsPending, view.creditsPending],
        ];
      }),
    ) as Outcome['balances'];
    expect((await ledger.verify()).violations).toEqual([]);
    return {
      posts: posts.map(({ status }) => status),
      voids: voids.map(({ status }) => status),
      balances,
    };
  } finally {
    await ledger.close();
  }
}

describe('posts and voids of holds wherever they live', () => {
  it('answer each id as its shard decides, in one call, on one shard and on two with either id scope', async () => {
    const one = await resolveEveryKind({ shards: 1 });
    expect(one.posts).toEqual([
      'ok',
      'ok',
      'ok',
      'pending_already_posted',
      'pending_already_voided',
      'pending_expired',
      'not_pending',
      'pending_not_found',
      'pending_already_posted',
      'amount_exceeds_pending',
    ]);
    expect(one.voids).toEqual(['ok', 'ok', 'pending_already_posted', 'pending_not_found']);
    // Posted: 5 plain, 10 hp, 60 of h0, 100 of h1 and of hx; nothing left pending.
    expect(one.balances).toEqual({
      a0: [175n, 0n, 0n, 0n],
      b0: [0n, 75n, 0n, 0n],
      a1: [100n, 0n, 0n, 0n],
      b1: [0n, 200n, 0n, 0n],
    });
    expect(await resolveEveryKind({ shards: 2 })).toEqual(one);
    expect(await resolveEveryKind({ shards: 2, transferIdScope: 'shard' })).toEqual(one);
  }, 60_000);
});
