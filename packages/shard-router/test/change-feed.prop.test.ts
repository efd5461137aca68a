// Goal: whatever was written and wherever a consumer resumes, the change feed equals the shards'
// logs. Method: fast-check (fixed seed) draws transfers, holds with their posts and voids (many
// across the two shards), a page size and a cursor; after writing them into one real ledger it
// compares the feed with readEvents, the last balances with lookupAccounts, and the feed resumed
// from the cursor with the tail of the full feed.
import fc from 'fast-check';
import type { SequencedEvent } from '@shardledger/ledger-core';
import { tempDir } from '@shardledger/ledger-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger, type ChangeEvent } from '../src/index.js';

/** Fixed unless FC_SEED is set; fast-check prints it (with the shrink path) on failure. */
const seed = Number(process.env['FC_SEED'] ?? 20_261_206);
const numRuns = Number(process.env['FC_RUNS'] ?? 8);
const accounts = Array.from({ length: 6 }, (_, index) => `acct-${index}`);

type Op =
  | { readonly kind: 'transfer'; readonly debit: number; readonly credit: number; amount: number }
  | { readonly kind: 'hold'; readonly debit: number; readonly credit: number; amount: number }
  | { readonly kind: 'resolve'; readonly post: boolean; readonly which: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('transfer' as const),
    debit: fc.nat(5),
    credit: fc.nat(5),
    amount: fc.integer({ min: 1, max: 50 }),
  }),
  fc.record({
    kind: fc.constant('hold' as const),
    debit: fc.nat(5),
    credit: fc.nat(5),
    amount: fc.integer({ min: 1, max: 50 }),
  }),
  fc.record({ kind: fc.constant('resolve' as const), post: fc.boolean(), which: fc.nat(1_000) }),
);

let ledger: Ledger;
let cleanup: () => Promise<void>;
let written = 0;
const holds: string[] = [];

async function apply(ops: readonly Op[]): Promise<void> {
  for (const item of ops) {
    const id = `w${written}`;
    written += 1;
    if (item.kind === 'resolve') {
      const pendingId = holds[item.which % Math.max(1, holds.length)];
      if (pendingId === undefined) continue;
      if (item.post) await ledger.postPendingTransfers([{ id, pendingId }]);
      else await ledger.voidPendingTransfers([{ id, pendingId }]);
      continue;
    }
    const debitAccountId = accounts[item.debit] as string;
    const creditAccountId = accounts[(item.debit + 1 + (item.credit % 5)) % 6] as string;
    const pending = item.kind === 'hold';
    const [result] = await ledger.createTransfers([
      {
        id,
        debitAccountId,
        creditAccountId,
        amount: BigInt(item.amount),
        currency: 'USD',
        pending,
      },
    ]);
    if (pending && result?.status === 'ok') holds.push(id);
  }
}

async function collect(feed: AsyncIterable<ChangeEvent>): Promise<ChangeEvent[]> {
  const events: ChangeEvent[] = [];
  for await (const change of feed) events.push(change);
  return events;
}

async function shardLog(shard: number): Promise<SequencedEvent[]> {
  const log: SequencedEvent[] = [];
  for (;;) {
    const page = await ledger.readEvents(shard, log.length, 1_000);
    if (page.length === 0) return log;
    log.push(...page);
  }
}

beforeAll(async () => {
  let dir: string;
  ({ dir, cleanup } = await tempDir('change-feed-prop'));
  ledger = await Ledger.open({ dir, shards: 2, durability: 'relaxed' });
  await ledger.createAccounts(accounts.map((id) => ({ id, currency: 'USD' })));
});

afterAll(async () => {
  await ledger.close();
  await cleanup();
});

describe('change feed against the logs', () => {
  it('equals each shard log, ends on the live balances and resumes anywhere', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { maxLength: 30 }),
        fc.integer({ min: 1, max: 64 }),
        fc.tuple(
          fc.double({ min: 0, max: 1, noNaN: true }),
          fc.double({ min: 0, max: 1, noNaN: true }),
        ),
        async (ops, pageSizeEvents, cuts) => {
          await apply(ops);
          const full = await collect(ledger.changes({ pageSizeEvents }));
          const logs = [await shardLog(0), await shardLog(1)];
          for (const [shard, log] of logs.entries()) {
            const mine = full.filter((change) => change.shard === shard);
            expect(mine.map((change) => [change.sequence, change.event])).toEqual(
              log.map((item) => [item.sequence, item.event]),
            );
          }
          const last = new Map<string, ChangeEvent['balances'][number]>();
          for (const change of full)
            for (const balance of change.balances) last.set(balance.accountId, balance);
          const live = await ledger.lookupAccounts(accounts);
          expect(accounts.map((id) => last.get(id))).toEqual(
            live.map((account) => ({
              accountId: account?.id,
              debitsPosted: account?.debitsPosted,
              creditsPosted: account?.creditsPosted,
              debitsPending: account?.debitsPending,
              creditsPending: account?.creditsPending,
            })),
          );
          const at = logs.map((log, shard) => Math.floor((cuts[shard] as number) * log.length));
          const after = at.map((sequence, shard) => `${shard}:${sequence}`).join(',');
          const tail = await collect(ledger.changes({ after, pageSizeEvents }));
          const key = (change: ChangeEvent): number => change.shard * 1e9 + change.sequence;
          const expected = full.filter((change) => change.sequence > (at[change.shard] as number));
          expect(tail.sort((a, b) => key(a) - key(b))).toEqual(
            expected.sort((a, b) => key(a) - key(b)),
          );
        },
      ),
      { seed, numRuns },
    );
  }, 30_000);
});
