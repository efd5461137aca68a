// Goal: a backup taken at any moment under cross-shard load is a state the ledger was in: it opens, verify() is clean (debits equal credits), and it holds every call acknowledged before backup() was called with its balance effect, none started after it resolved. Method: fast-check (fixed seed, in the test name) draws the shard count (2-4), the writers, the share of holds, the backup moments (one or two backups at once) and snapshots taken before them; real ledgers, worker threads and files, account pairs drawn uniformly so that most transfers cross shards.
import fc from 'fast-check';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Ledger, limits, type TransferInput } from '../src/index.js';
import { seededRandom, tempDir } from '@shardledger/ledger-core/testing';
import { ledgerTotals } from './ledger-fixtures.js';

/** Fixed unless FC_SEED is set; fast-check also prints it (with the shrink path) on failure. */
const seed = Number(process.env['FC_SEED'] ?? 20_261_206);
const numRuns = Number(process.env['FC_RUNS'] ?? 3);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

const accounts = Array.from({ length: 16 }, (_, index) => `acct-${index}`);

interface Plan {
  readonly shards: number;
  readonly writers: number;
  /** Per mille of created transfers that are holds (pending); writers post or void their own. */
  readonly holdsPerMille: number;
  readonly writerSeed: number;
  /** Each backup starts once this many more calls have ended, after a snapshot of every shard
   * when `snapshot` (the copy then takes the snapshots that end at or before its cut); `pair`:
   * two backups at once. */
  readonly backups: readonly {
    readonly afterCalls: number;
    readonly snapshot: boolean;
    readonly pair: boolean;
  }[];
}

const plan: fc.Arbitrary<Plan> = fc.record({
  shards: fc.integer({ min: 2, max: 4 }),
  writers: fc.integer({ min: 2, max: 4 }),
  holdsPerMille: fc.constantFrom(0, 100, 250),
  writerSeed: fc.nat(),
  backups: fc.array(
    fc.record({
      afterCalls: fc.integer({ min: 1, max: 6 }),
      snapshot: fc.boolean(),
      pair: fc.constantFrom(false, false, true),
    }),
    { minLength: 1, maxLength: 2 },
  ),
});

interface Call {
  readonly creates: readonly TransferInput[];
  /** Holds this call posts or voids (their ids, and which). */
  readonly resolves: readonly { readonly pendingId: string; readonly post: boolean }[];
  readonly startedAt: number;
  endedAt: number | null;
  statuses: string[];
}

interface Taken {
  readonly calledAt: number;
  readonly doneAt: number;
  readonly dir: string;
}

/** Writers loop until stopped; `ended(n)` resolves once n calls have ended. */
function startLoad(
  ledger: Ledger,
  chosen: Plan,
): { calls: Call[]; ended: (count: number) => Promise<void>; stop: () => Promise<void> } {
  const calls: Call[] = [];
  let endedCount = 0;
  let waiters: { count: number; resolve: () => void }[] = [];
  let stopped = false;
  let next = 0;
  const writer = async (index: number): Promise<void> => {
    const random = seededRandom(chosen.writerSeed + index);
    const holds: string[] = [];
    while (!stopped) {
      const resolving = holds.length > 0 && random() < 0.3;
      const creates: TransferInput[] = [];
      const resolves: { pendingId: string; post: boolean }[] = [];
      if (resolving) {
        for (const pendingId of holds.splice(0, 1 + Math.floor(random() * 4)))
          resolves.push({ pendingId, post: random() < 0.5 });
      } else {
        const size = 50 + Math.floor(random() * 150);
        for (let count = 0; count < size; count += 1) {
          const debit = Math.floor(random() * accounts.length);
          const credit =
            (debit + 1 + Math.floor(random() * (accounts.length - 1))) % accounts.length;
          const pending = random() * 1000 < chosen.holdsPerMille;
          const id = `t-${String(next++).padStart(8, '0')}`;
          creates.push({
            id,
            debitAccountId: accounts[debit] as string,
            creditAccountId: accounts[credit] as string,
            amount: BigInt(1 + Math.floor(random() * 1000)),
            currency: 'EUR',
            ...(pending ? { pending: true } : {}),
          });
        }
      }
      const call: Call = {
        creates,
        resolves,
        startedAt: performance.now(),
        endedAt: null,
        statuses: [],
      };
      calls.push(call);
      if (resolving) {
        const posts = resolves
          .filter((entry) => entry.post)
          .map((entry) => ({ id: `p-${entry.pendingId}`, pendingId: entry.pendingId }));
        const voids = resolves
          .filter((entry) => !entry.post)
          .map((entry) => ({ id: `v-${entry.pendingId}`, pendingId: entry.pendingId }));
        const [posted, voided] = await Promise.all([
          ledger.postPendingTransfers(posts),
          ledger.voidPendingTransfers(voids),
        ]);
        call.statuses = [...posted, ...voided].map((result) => result.status);
      } else {
        call.statuses = (await ledger.createTransfers(creates)).map((result) => result.status);
        for (const transfer of creates) if (transfer.pending === true) holds.push(transfer.id);
      }
      call.endedAt = performance.now();
      endedCount += 1;
      for (const waiter of waiters) if (endedCount >= waiter.count) waiter.resolve();
      waiters = waiters.filter((waiter) => endedCount < waiter.count);
    }
  };
  const running = Array.from({ length: chosen.writers }, (_, index) => writer(index));
  return {
    calls,
    ended: (count) =>
      endedCount >= count
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ count, resolve })),
    stop: async () => {
      stopped = true;
      await Promise.all(running);
    },
  };
}

/** What the copy must show for a transfer, given the calls acknowledged before the backup. */
function expectedStates(calls: readonly Call[], calledAt: number): Map<string, readonly string[]> {
  const states = new Map<string, readonly string[]>();
  const acknowledged = calls.filter((call) => call.endedAt !== null && call.endedAt < calledAt);
  for (const call of acknowledged)
    for (const transfer of call.creates)
      states.set(
        transfer.id,
        transfer.pending === true ? ['pending', 'posted', 'voided'] : ['posted'],
      );
  for (const call of acknowledged)
    for (const entry of call.resolves)
      states.set(entry.pendingId, [entry.post ? 'posted' : 'voided']);
  return states;
}

async function checkCopy(taken: Taken, calls: readonly Call[]): Promise<void> {
  const copy = await Ledger.open({ dir: taken.dir });
  try {
    const report = await copy.verify();
    expect(report.violations).toEqual([]);
    expect(report.ok).toBe(true);
    const created = calls.flatMap((call) => call.creates);
    const found = [];
    for (let start = 0; start < created.length; start += limits.batchSizeMax) {
      found.push(
        ...(await copy.lookupTransfers(
          created.slice(start, start + limits.batchSizeMax).map((transfer) => transfer.id),
        )),
      );
    }
    const byId = new Map(
      found.flatMap((record) => (record === undefined ? [] : [[record.id, record] as const])),
    );
    for (const [id, allowed] of expectedStates(calls, taken.calledAt))
      expect(allowed).toContain(byId.get(id)?.state);
    for (const call of calls)
      if (call.startedAt > taken.doneAt)
        for (const transfer of call.creates) expect(byId.has(transfer.id)).toBe(false);
    // Balances are exactly the transfers the copy holds: none half-applied, none counted twice.
    const expected = new Map(
      accounts.map((id) => [
        id,
        { debitsPosted: 0n, creditsPosted: 0n, debitsPending: 0n, creditsPending: 0n },
      ]),
    );
    for (const record of byId.values()) {
      const debit = expected.get(record.debitAccountId) as {
        debitsPosted: bigint;
        debitsPending: bigint;
      };
      const credit = expected.get(record.creditAccountId) as {
        creditsPosted: bigint;
        creditsPending: bigint;
      };
      if (record.state === 'posted') {
        debit.debitsPosted += record.postedAmount ?? record.amount;
        credit.creditsPosted += record.postedAmount ?? record.amount;
      } else if (record.state === 'pending') {
        debit.debitsPending += record.amount;
        credit.creditsPending += record.amount;
      } else {
        expect(record.state).toBe('voided');
      }
    }
    const balances = await copy.lookupAccounts(accounts);
    balances.forEach((account, index) => {
      const { debitsPosted, creditsPosted, debitsPending, creditsPending } = account ?? {};
      expect({ debitsPosted, creditsPosted, debitsPending, creditsPending }).toEqual(
        expected.get(accounts[index] as string),
      );
    });
    expect((await ledgerTotals(copy)).reservationsOpen).toBe(0);
  } finally {
    await copy.close();
  }
}

describe('Ledger.backup under cross-shard load', () => {
  it(`opens every backup taken at a random moment consistent, holding every acknowledged call (seed ${seed})`, async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(plan, async (chosen) => {
        run += 1;
        const { dir: base, cleanup } = await tempDir('backup-prop');
        cleanups.push(cleanup);
        const ledger = await Ledger.open({ dir: join(base, 'data'), shards: chosen.shards });
        const taken: Taken[] = [];
        try {
          await ledger.createAccounts(accounts.map((id) => ({ id, currency: 'EUR' })));
          const load = startLoad(ledger, chosen);
          let seen = 0;
          for (const [index, backup] of chosen.backups.entries()) {
            if (backup.snapshot) await ledger.snapshot();
            seen += backup.afterCalls;
            await load.ended(seen);
            const targets = backup.pair
              ? [`copy-${index}-a`, `copy-${index}-b`]
              : [`copy-${index}`];
            const calledAt = performance.now();
            await Promise.all(targets.map((name) => ledger.backup(join(base, name))));
            const doneAt = performance.now();
            for (const name of targets) taken.push({ calledAt, doneAt, dir: join(base, name) });
          }
          await load.ended(seen + 2);
          await load.stop();
          for (const call of load.calls)
            expect(call.statuses.filter((status) => status !== 'ok')).toEqual([]);
          await ledger.close();
          await Promise.all(taken.map((backup) => checkCopy(backup, load.calls)));
        } finally {
          await ledger.close();
        }
      }),
      { seed, numRuns, endOnFailure: true },
    );
    expect(run).toBeGreaterThanOrEqual(numRuns);
    // About 15 s on a quiet 2-core machine; the bound leaves room for a loaded one.
  }, 180_000);
});
