// Goal: the read model equals the write side, reports its watermark, and rebuilds to the same rows.
// Method: a seeded random workload (same-shard and cross-shard transfers, atomic groups, pending
// transfers posted, partly posted or voided) on a real 3-shard ledger in a temp dir, projected
// while it is written; after waitFor('latest') every account is compared with lookupAccounts.
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeEventRecord } from '@shardledger/ledger-core/internals';
import { seededRandom, tempDir as sharedTempDir } from '@shardledger/ledger-core/testing';
import { Ledger, isLedgerError, type TransferInput } from '../src/index.js';
import { ReadModel, dumpProjection } from '../src/read-model/index.js';
import { openReadModelDb } from '../src/read-model/read-model-db.js';

const SEED = 0x5eed6;
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(cleanups.map((cleanup) => cleanup()));
});

async function tempDir(): Promise<string> {
  const made = await sharedTempDir('read-model');
  cleanups.push(made.cleanup);
  return made.dir;
}

interface Workload {
  readonly accountIds: string[];
  /** Transfer ids accepted ('ok'), by payment order. */
  readonly byOrder: Map<string, Set<string>>;
  readonly crossShardIds: string[];
  readonly pendingOutcomes: Map<string, 'posted' | 'voided' | 'pending'>;
  readonly midTimestamp: bigint;
}

/** Seeded writes; every call is awaited so that statuses are known. */
async function runWorkload(ledger: Ledger, seed: number): Promise<Workload> {
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const accountIds: string[] = [];
  const currencies = ['USD', 'EUR'];
  const accounts = Array.from({ length: 24 }, (_, index) => ({
    id: `acct-${index}`,
    currency: currencies[index % 2] as string,
    metadata: { owner: `o${index}` },
  }));
  accountIds.push(...accounts.map((account) => account.id));
  expect((await ledger.createAccounts(accounts)).every((result) => result.status === 'ok')).toBe(
    true,
  );
  const sameCurrency = (currency: string): string[] =>
    accounts.filter((account) => account.currency === currency).map((account) => account.id);
  const byOrder = new Map<string, Set<string>>();
  const crossShardIds: string[] = [];
  const pendingOutcomes = new Map<string, 'posted' | 'voided' | 'pending'>();
  let next = 0;
  let midTimestamp = 0n;
  const transferOf = (
    pending: boolean,
  ): TransferInput & { id: string; debitAccountId: string; creditAccountId: string } => {
    const currency = pick(currencies);
    const ids = sameCurrency(currency);
    const debitAccountId = pick(ids);
    let creditAccountId = pick(ids);
    while (creditAccountId === debitAccountId) creditAccountId = pick(ids);
    next += 1;
    const big =
      random() < 0.05 ? (1n << 80n) + BigInt(next) : BigInt(1 + Math.floor(random() * 10_000));
    return {
      id: `t${next}`,
      debitAccountId,
      creditAccountId,
      amount: big,
      currency,
      pending,
      metadata: { payment_order_id: `po-${next % 7}` },
    };
  };
  for (let round = 0; round < 12; round += 1) {
    const batch = Array.from({ length: 40 }, () => transferOf(false));
    const results = await ledger.createTransfers(batch);
    results.forEach((result, index) => {
      const transfer = batch[index] as (typeof batch)[number];
      if (result.status !== 'ok') return;
      const order = (transfer.metadata as Record<string, string>)['payment_order_id'] as string;
      const set = byOrder.get(order) ?? new Set<string>();
      set.add(transfer.id);
      byOrder.set(order, set);
      if (ledger.shardOf(transfer.debitAccountId) !== ledger.shardOf(transfer.creditAccountId))
        crossShardIds.push(transfer.id);
    });
    const group = Array.from({ length: 3 }, () => transferOf(false));
    const groupResults = await ledger.createAtomicGroup(group);
    groupResults.forEach((result, index) => {
      if (result.status !== 'ok') return;
      const transfer = group[index] as (typeof group)[number];
      const order = (transfer.metadata as Record<string, string>)['payment_order_id'] as string;
      byOrder.set(order, (byOrder.get(order) ?? new Set<string>()).add(transfer.id));
    });
    const holds = Array.from({ length: 6 }, () => transferOf(true));
    const holdResults = await ledger.createTransfers(holds);
    const open = holds.filter((_, index) => holdResults[index]?.status === 'ok');
    for (const hold of open) {
      const order = (hold.metadata as Record<string, string>)['payment_order_id'] as string;
      byOrder.set(order, (byOrder.get(order) ?? new Set<string>()).add(hold.id));
    }
    const toPost = open.filter((_, index) => index % 3 === 0);
    const toVoid = open.filter((_, index) => index % 3 === 1);
    const posted = await ledger.postPendingTransfers(
      toPost.map((hold, index) => ({
        id: `${hold.id}-post`,
        pendingId: hold.id,
        ...(index % 2 === 0 ? { amount: 1n } : {}),
      })),
    );
    const voided = await ledger.voidPendingTransfers(
      toVoid.map((hold) => ({ id: `${hold.id}-void`, pendingId: hold.id })),
    );
    for (const hold of open) pendingOutcomes.set(hold.id, 'pending');
    toPost.forEach(
      (hold, index) => posted[index]?.status === 'ok' && pendingOutcomes.set(hold.id, 'posted'),
    );
    toVoid.forEach(
      (hold, index) => voided[index]?.status === 'ok' && pendingOutcomes.set(hold.id, 'voided'),
    );
    if (round === 5) midTimestamp = BigInt(Date.now()) * 1_000_000n;
  }
  return { accountIds, byOrder, crossShardIds, pendingOutcomes, midTimestamp };
}

describe('read model', () => {
  it('equals the write side after waitFor(latest): counters, statements, running balances, totals', async () => {
    const dir = await tempDir();
    const ledger = await Ledger.open({ dir, shards: 3, durability: 'relaxed' });
    const model = await ReadModel.open({
      ledger,
      path: join(dir, 'rm.sqlite'),
      batchSizeEvents: 64,
    });
    try {
      const work = await runWorkload(ledger, SEED);
      const watermark = await model.waitFor('latest', { timeoutMs: 20_000 });
      const info = await ledger.info();
      expect(watermark.map((mark) => mark.sequence)).toEqual(
        info.shardInfo.map((shard) => shard.lastSequence),
      );
      const live = await ledger.lookupAccounts(work.accountIds);
      const projected = model.lookupAccounts(work.accountIds);
      expect(projected).toEqual(live);
      for (const [index, account] of live.entries()) {
        const view = projected[index];
        expect(account).toBeDefined();
        expect(view).toBeDefined();
        if (account === undefined || view === undefined) continue;
        expect([
          view.debitsPosted,
          view.creditsPosted,
          view.debitsPending,
          view.creditsPending,
          view.balance,
        ]).toEqual([
          account.debitsPosted,
          account.creditsPosted,
          account.debitsPending,
          account.creditsPending,
          account.balance,
        ]);
        // The statement over all time, read page by page, adds up to the account.
        let cursor: string | null = null;
        let running = 0n;
        let pages = 0;
        let last: {
          closing: { balance: bigint; debitsPosted: bigint; creditsPosted: bigint };
          debits: bigint;
          credits: bigint;
        } | null = null;
        do {
          const page: ReturnType<ReadModel['statement']> = model.statement({
            accountId: account.id,
            limit: 17,
            after: cursor,
          });
          for (const entry of page.entries) {
            running += entry.amount;
            expect(entry.balance).toBe(running);
            expect(entry.creditsPosted - entry.debitsPosted).toBe(entry.balance);
          }
          expect(page.opening.balance).toBe(0n);
          last = page;
          cursor = page.next;
          pages += 1;
        } while (cursor !== null && pages < 1_000);
        expect(running).toBe(account.balance);
        expect(last?.closing.balance).toBe(account.balance);
        expect(last?.debits).toBe(account.debitsPosted);
        expect(last?.credits).toBe(account.creditsPosted);
        // Balance as of a past time equals the write side's own history index.
        const then = model.balanceAsOf(account.id, { timestamp: work.midTimestamp });
        const liveThen = await ledger.balanceAsOf(account.id, { timestamp: work.midTimestamp });
        expect(then).toEqual(liveThen);
        // A statement split at that time: opening of the second half = closing of the first.
        const first = model.statement({
          accountId: account.id,
          to: work.midTimestamp + 1n,
          limit: 1,
        });
        const second = model.statement({
          accountId: account.id,
          from: work.midTimestamp + 1n,
          limit: 1,
        });
        expect(second.opening).toEqual(first.closing);
        expect(first.credits - first.debits + second.credits - second.debits).toBe(account.balance);
      }
      const sums = new Map<string, bigint[]>();
      for (const account of live) {
        if (account === undefined) continue;
        const sum = sums.get(account.currency) ?? [0n, 0n, 0n, 0n];
        sums.set(account.currency, [
          (sum[0] as bigint) + account.debitsPosted,
          (sum[1] as bigint) + account.creditsPosted,
          (sum[2] as bigint) + account.debitsPending,
          (sum[3] as bigint) + account.creditsPending,
        ]);
      }
      const totals = model.currencyTotals().totals;
      expect(
        totals.map((row) => [
          row.currency,
          [row.debitsPosted, row.creditsPosted, row.debitsPending, row.creditsPending],
        ]),
      ).toEqual([...sums].sort(([left], [right]) => (left < right ? -1 : 1)));
      // Transfers by metadata: every accepted transfer of each payment order, once.
      for (const [order, ids] of work.byOrder) {
        const found: string[] = [];
        let afterId: string | null = null;
        do {
          const page: ReturnType<ReadModel['transfersByMetadata']> = model.transfersByMetadata({
            key: 'payment_order_id',
            value: order,
            limit: 50,
            after: afterId,
          });
          found.push(...page.transfers.map((transfer) => transfer.id));
          afterId = page.next;
        } while (afterId !== null);
        expect(found.sort()).toEqual([...ids].sort());
      }
      // One row per cross-shard transfer, posted; holds end in the state the workload left them.
      expect(work.crossShardIds.length).toBeGreaterThan(0);
      const cross = model.lookupTransfers(work.crossShardIds);
      expect(cross.every((transfer) => transfer?.state === 'posted' && transfer.crossShard)).toBe(
        true,
      );
      const holdIds = [...work.pendingOutcomes.keys()];
      const holds = model.lookupTransfers(holdIds);
      expect(holds.map((transfer) => transfer?.state)).toEqual(
        holdIds.map((id) => work.pendingOutcomes.get(id)),
      );
      expect(
        holds.some((transfer) => transfer?.state === 'posted' && transfer.postedAmount === 1n),
      ).toBe(true);
      // Holds across shards among them, posted in part too, with the post's own row.
      const crossHolds = holds.filter((transfer) => transfer?.crossShard === true);
      expect(
        crossHolds.some((transfer) => transfer?.state === 'posted' && transfer.postedAmount === 1n),
      ).toBe(true);
      expect(
        crossHolds.some((transfer) => transfer?.state === 'voided') &&
          crossHolds.some((transfer) => transfer?.state === 'pending'),
      ).toBe(true);
      for (const transfer of crossHolds) {
        const live = (await ledger.lookupTransfers([transfer?.id as string]))[0];
        expect([transfer?.state, transfer?.postedAmount, transfer?.pending]).toEqual([
          live?.state,
          live?.postedAmount,
          true,
        ]);
      }
      const postRows = model.lookupTransfers(
        crossHolds
          .filter((transfer) => transfer?.state === 'posted')
          .map((transfer) => `${transfer?.id}-post`),
      );
      expect(postRows.length).toBeGreaterThan(0);
      expect(postRows.every((row) => row?.kind === 'post')).toBe(true);
      expect((await model.lag()).every((shard) => shard.lagEvents === 0 && shard.lagMs === 0)).toBe(
        true,
      );
      expect((await ledger.verify()).ok).toBe(true);
    } finally {
      await model.close();
      await ledger.close();
    }
  });

  it('rebuilds to the same rows, whatever the batch size and shard interleaving', async () => {
    const dir = await tempDir();
    const ledger = await Ledger.open({ dir, shards: 3, durability: 'relaxed' });
    const model = await ReadModel.open({ ledger, path: join(dir, 'rm.sqlite') });
    try {
      await runWorkload(ledger, SEED + 1);
      await model.waitFor('latest', { timeoutMs: 20_000 });
      const before = dumpProjection(model.db);
      expect(before['entries']?.length).toBeGreaterThan(0);
      await model.rebuild({ timeoutMs: 20_000 });
      expect(dumpProjection(model.db)).toEqual(before);
      const other = await ReadModel.open({
        ledger,
        path: join(dir, 'other.sqlite'),
        batchSizeEvents: 7,
        follow: false,
      });
      try {
        await other.catchUp({ timeoutMs: 20_000 });
        expect(dumpProjection(other.db)).toEqual(before);
      } finally {
        await other.close();
      }
    } finally {
      await model.close();
      await ledger.close();
    }
  });

  it("rebuilds at open a file that is ahead of the ledger's log (the log lost events its rows hold)", async () => {
    const behind = await tempDir();
    let ledger = await Ledger.open({ dir: behind, shards: 3 });
    await runWorkload(ledger, SEED + 3);
    await ledger.close();
    const ahead = await tempDir();
    await cp(behind, ahead, { recursive: true });
    // The ahead copy goes on, and its read model projects what only it has.
    ledger = await Ledger.open({ dir: ahead });
    let model = await ReadModel.open({ ledger, path: join(ahead, 'rm.sqlite') });
    const [written] = await ledger.createTransfers([
      {
        id: 'only-ahead',
        debitAccountId: 'acct-0',
        creditAccountId: 'acct-2',
        amount: 5n,
        currency: 'USD',
      },
    ]);
    expect(written?.status).toBe('ok');
    await model.waitFor('latest', { timeoutMs: 20_000 });
    await model.close();
    await ledger.close();
    // The behind dir gets that file, as if its log had lost those events after they were projected.
    await cp(join(ahead, 'rm.sqlite'), join(behind, 'rm.sqlite'));

    ledger = await Ledger.open({ dir: behind });
    model = await ReadModel.open({ ledger, path: join(behind, 'rm.sqlite'), follow: false });
    const fresh = await ReadModel.open({
      ledger,
      path: join(behind, 'fresh.sqlite'),
      follow: false,
    });
    try {
      const info = await ledger.info();
      model.watermark().forEach((mark) => expect(mark.sequence).toBe(0));
      await model.catchUp({ timeoutMs: 20_000 });
      await fresh.catchUp({ timeoutMs: 20_000 });
      expect(model.watermark().map((mark) => mark.sequence)).toEqual(
        info.shardInfo.map((shard) => shard.lastSequence),
      );
      const rows = dumpProjection(model.db);
      expect(rows).toEqual(dumpProjection(fresh.db));
      expect(
        JSON.stringify(rows, (_key, value: unknown) =>
          typeof value === 'bigint' ? String(value) : value,
        ),
      ).not.toContain('only-ahead');
    } finally {
      await fresh.close();
      await model.close();
      await ledger.close();
    }
  });

  it('refuses the file of another ledger of the same shape, and takes a file that names the shape only (older builds) once', async () => {
    const first = await tempDir();
    const second = await tempDir();
    const path = join(first, 'rm.sqlite');
    const model = await ReadModel.open({ dir: first, path });
    await model.ledger.createAccounts([{ id: 'a', currency: 'USD' }]);
    await model.waitFor('latest', { timeoutMs: 5_000 });
    const { ledgerId, hash, shards } = await model.ledger.info();
    await model.close();
    const other = await Ledger.open({ dir: second, shards });
    try {
      expect((await other.info()).ledgerId).not.toBe(ledgerId);
      const error: unknown = await ReadModel.open({ ledger: other, path, follow: false }).catch(
        (caught: unknown) => caught,
      );
      expect(isLedgerError(error, 'INVALID_ARGUMENT') && error.detail['ledger']).toBe(
        'the file projects another ledger',
      );
      // A file from before ledger ids names the shape only: it is taken, and from then on names this ledger.
      const older = join(second, 'older.sqlite');
      const fresh = await ReadModel.open({ ledger: other, path: older, follow: false });
      await fresh.close();
      const db = openReadModelDb({ path: older, readonly: false });
      db.prepare("UPDATE meta SET value = ? WHERE key = 'ledger'").run(`${hash}/${shards}`);
      db.close();
      const reopened = await ReadModel.open({ ledger: other, path: older, follow: false });
      await reopened.close();
      const check = openReadModelDb({ path: older, readonly: true });
      expect(
        (check.prepare("SELECT value FROM meta WHERE key = 'ledger'").get() as { value: string })
          .value,
      ).toBe(`${hash}/${shards}/${(await other.info()).ledgerId}`);
      check.close();
    } finally {
      await other.close();
    }
  });

  it('waitFor rejects with TIMEOUT for a sequence the ledger has not reached', async () => {
    const dir = await tempDir();
    const model = await ReadModel.open({ dir });
    try {
      await model.ledger.createAccounts([{ id: 'a', currency: 'USD' }]);
      const reached = await model.waitFor('latest', { timeoutMs: 5_000 });
      expect(reached.reduce((sum, mark) => sum + mark.sequence, 0)).toBe(1);
      const shard = model.ledger.shardOf('a');
      await model.waitFor({ shard, sequence: 1 }, { timeoutMs: 1_000 });
      const error: unknown = await model
        .waitFor({ shard, sequence: 2 }, { timeoutMs: 50 })
        .catch((caught: unknown) => caught);
      expect(isLedgerError(error, 'TIMEOUT')).toBe(true);
    } finally {
      await model.close();
    }
  });

  it('reads raw records only when a shard has something new, and waitFor without pollNow still gets there', async () => {
    const dir = await tempDir();
    const ledger = await Ledger.open({ dir, shards: 1 });
    const model = await ReadModel.open({ ledger, path: join(dir, 'rm.sqlite') });
    try {
      await ledger.createAccounts([
        { id: 'a', currency: 'USD' },
        { id: 'b', currency: 'USD' },
      ]);
      for (let call = 0; call < 3; call += 1) {
        const results = await ledger.createTransfers(
          [1, 2].map((n) => ({
            id: `t${call}-${n}`,
            debitAccountId: 'a',
            creditAccountId: 'b',
            amount: 5n,
            currency: 'USD',
          })),
        );
        expect(results.every((result) => result.status === 'ok')).toBe(true);
      }
      const client = ledger.shardClient(0);
      const nothing = await client.readNewRecords(8, 100);
      expect(nothing).toEqual({ lastSequence: 8, records: [] });
      // Whole log records (one per call here), holding at least the events asked for.
      const some = await client.readNewRecords(4, 2);
      expect(some.lastSequence).toBe(8);
      const sequences = some.records.flatMap((bytes) => {
        const record = decodeEventRecord(bytes);
        return record.events.map((_event, index) => record.first + index);
      });
      expect(sequences).toEqual(expect.arrayContaining([5, 6]));
      expect(Math.min(...sequences)).toBeLessThanOrEqual(5);
      const marks = await model.waitFor(
        { shard: 0, sequence: 8 },
        { timeoutMs: 5_000, pollNow: false },
      );
      expect(marks[0]?.sequence).toBe(8);
      expect(model.lookupAccounts(['b'])[0]?.creditsPosted).toBe(30n);
    } finally {
      await model.close();
      await ledger.close();
    }
  });

  it('runs the projector in a worker thread at the niceness asked for, and refuses bad options', async () => {
    const dir = await tempDir();
    const ledger = await Ledger.open({ dir, shards: 2, durability: 'relaxed' });
    try {
      const background = await ReadModel.open({ ledger, path: join(dir, 'a.sqlite') });
      const normal = await ReadModel.open({
        ledger,
        path: join(dir, 'b.sqlite'),
        projectorNiceness: 0,
      });
      try {
        // Linux lets a thread lower its own priority; elsewhere the worker reports null.
        expect(process.platform === 'linux' ? background.projectorNiceness : 19).toBe(19);
        expect(normal.projectorNiceness).toBe(0);
        await ledger.createAccounts([
          { id: 'x', currency: 'USD' },
          { id: 'y', currency: 'USD' },
        ]);
        await background.catchUp({ timeoutMs: 20_000 });
        await normal.catchUp({ timeoutMs: 20_000 });
        expect(dumpProjection(background.db)).toEqual(dumpProjection(normal.db));
      } finally {
        await background.close();
        await normal.close();
      }
      for (const options of [
        { projectorNiceness: 20 },
        { projectorNiceness: -1 },
        { pollIntervalMs: 0 },
        { pollIntervalMs: 10, pollIntervalMaxMs: 5 },
      ]) {
        const error: unknown = await ReadModel.open({
          ledger,
          path: join(dir, 'c.sqlite'),
          ...options,
        }).catch((caught: unknown) => caught);
        expect(isLedgerError(error, 'INVALID_ARGUMENT')).toBe(true);
      }
    } finally {
      await ledger.close();
    }
  });

  it('stops projecting and rejects waiters when a batch fails in the worker (a second writer moved a watermark)', async () => {
    const dir = await tempDir();
    const ledger = await Ledger.open({ dir, shards: 1, durability: 'relaxed' });
    const path = join(dir, 'rm.sqlite');
    const model = await ReadModel.open({ ledger, path, follow: false });
    try {
      await ledger.createAccounts([{ id: 'x', currency: 'USD' }]);
      await model.catchUp({ timeoutMs: 20_000 });
      // Another connection writes the file behind the projector's back: the exactly-once check of
      // the next batch (the stored watermark is where the batch starts) must refuse it.
      const intruder = openReadModelDb({ path, readonly: false });
      intruder.prepare('UPDATE watermarks SET last_sequence = last_sequence + 5').run();
      intruder.close();
      await ledger.createAccounts([{ id: 'y', currency: 'USD' }]);
      const error: unknown = await model
        .catchUp({ timeoutMs: 20_000 })
        .catch((caught: unknown) => caught);
      expect(isLedgerError(error, 'ASSERTION_FAILED')).toBe(true);
      expect(model.lookupAccounts(['y'])[0]).toBeUndefined();
      const again: unknown = await model
        .waitFor('latest', { timeoutMs: 1_000 })
        .catch((caught: unknown) => caught);
      expect(isLedgerError(again, 'ASSERTION_FAILED')).toBe(true);
    } finally {
      await model.close();
      await ledger.close();
    }
  });
});
