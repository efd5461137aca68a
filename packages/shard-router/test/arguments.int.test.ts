// Goal: malformed arguments and options are refused on the calling thread with INVALID_ARGUMENT,
// never reach a shard worker, and ids that are not well-formed Unicode cannot collide. Method: real
// 2-shard ledgers (compiled workers, LMDB in mkdtemp dirs), restart events counted per shard.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ledger, ReadModel, type LedgerOptions } from '../src/index.js';
import { tempDir } from '@shardledger/ledger-core/testing';
import { errorCodeOf, idOnShard } from './ledger-fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
const open: Ledger[] = [];

async function openLedger(options: Partial<LedgerOptions> = {}): Promise<Ledger> {
  const ledger = await Ledger.open({ dir, shards: 2, durability: 'relaxed', ...options });
  open.push(ledger);
  return ledger;
}

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir('arguments'));
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((ledger) => ledger.close()));
  await cleanup();
});

describe('ids that are not well-formed Unicode', () => {
  it('are refused as invalid_id, so two ids that differ only in a lone surrogate cannot share one key', async () => {
    const ledger = await openLedger();
    const taken = new Set<string>();
    const bank = idOnShard(ledger, 0, 'bank', taken);
    const alice = idOnShard(ledger, 0, 'alice', taken);
    const bob = idOnShard(ledger, 1, 'bob', taken);
    await ledger.createAccounts([
      { id: bank, currency: 'EUR' },
      { id: alice, currency: 'EUR' },
      { id: bob, currency: 'EUR' },
    ]);
    // Both halves of one emoji, cut: stored as UTF-8 each would become 'pay-\uFFFD'.
    const first = 'pay-\uD83D';
    const second = 'pay-\uDE00';
    const plain = (id: string, credit: string) => ({
      id,
      debitAccountId: bank,
      creditAccountId: credit,
      amount: 100n,
      currency: 'EUR',
    });
    // The router's plain lane (same shard), the general path (metadata) and a saga (cross-shard).
    const results = await ledger.createTransfers([
      plain(first, alice),
      plain(second, alice),
      { ...plain(`${second}-meta`, alice), metadata: { order: '1' } },
      plain(`${first}-x`, bob),
      plain('pay-\u0085', alice),
    ]);
    expect(results.map((result) => result.status)).toEqual([
      'invalid_id',
      'invalid_id',
      'invalid_id',
      'invalid_id',
      'invalid_id',
    ]);
    const accounts = await ledger.createAccounts([
      { id: 'acct-\uDBFF', currency: 'EUR' },
      { id: 'acct-\u0080', currency: 'EUR' },
      { id: 'ok', currency: 'EUR', metadata: { note: 'cut \uD83D' } },
    ]);
    expect(accounts.map((result) => result.status)).toEqual([
      'invalid_id',
      'invalid_id',
      'invalid_metadata',
    ]);
    const holds = await ledger.createTransfers([{ ...plain('hold-1', alice), pending: true }]);
    expect(holds[0]?.status).toBe('ok');
    const posts = await ledger.postPendingTransfers([
      { id: 'post-\uD800', pendingId: 'hold-1' },
      { id: 'post-1', pendingId: 'hold-\uD800' },
    ]);
    expect(posts.map((result) => result.status)).toEqual(['invalid_id', 'invalid_id']);
    // Nothing moved but the hold, and a lookup of either half finds nothing.
    const [aliceNow, bobNow] = await ledger.lookupAccounts([alice, bob]);
    expect(aliceNow).toMatchObject({ creditsPosted: 0n, creditsPending: 100n });
    expect(bobNow).toMatchObject({ creditsPosted: 0n });
    expect(await ledger.lookupTransfers([first, second, 'pay-\uFFFD'])).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(await ledger.lookupAccounts(['acct-\uDBFF', 'acct-\uFFFD'])).toEqual([
      undefined,
      undefined,
    ]);
    expect((await ledger.verify()).ok).toBe(true);
  });
});

describe('malformed read arguments', () => {
  it('are refused with INVALID_ARGUMENT while writes are in flight: every write succeeds, no worker restarts, close() resolves', async () => {
    const ledger = await openLedger();
    const restarts: number[] = [];
    for (const shard of [0, 1]) ledger.shardClient(shard).onRestart(() => restarts.push(shard));
    const taken = new Set<string>();
    const bank = [idOnShard(ledger, 0, 'bank', taken), idOnShard(ledger, 1, 'bank', taken)];
    const user = [idOnShard(ledger, 0, 'user', taken), idOnShard(ledger, 1, 'user', taken)];
    await ledger.createAccounts([...bank, ...user].map((id) => ({ id, currency: 'USD' })));
    // 60 calls of writes on both shards, sent before the malformed reads and still in flight.
    const writes = Array.from({ length: 60 }, (_, call) =>
      ledger.createTransfers(
        Array.from({ length: 20 }, (_, index) => ({
          id: `w-${String(call).padStart(3, '0')}-${String(index).padStart(3, '0')}`,
          debitAccountId: bank[index % 2] as string,
          creditAccountId: user[(index + call) % 2] as string,
          amount: 1n,
          currency: 'USD',
        })),
      ),
    );
    const hostile = { toString: () => 'w-000-000' };
    const malformed: (() => Promise<unknown>)[] = [
      () => ledger.lookupTransfers([{}] as never),
      () => ledger.lookupTransfers([hostile] as never),
      () => ledger.lookupTransfers([Symbol('id')] as never),
      () => ledger.lookupTransfers('w-000-000' as never),
      () => ledger.lookupTransfers(null as never),
      () => ledger.lookupAccounts([{}] as never),
      () => ledger.lookupAccounts([Symbol('id')] as never),
      () => ledger.balanceAsOf(user[0] as string, null as never),
      () => ledger.balanceAsOf(user[0] as string, { sequence: -1 }),
      () => ledger.balanceAsOf(user[0] as string, { sequence: '1' as never }),
      () => ledger.balanceAsOf(user[0] as string, { timestamp: 5 as never }),
      () => ledger.balanceAsOf(user[0] as string, [] as never),
      () => ledger.balanceAsOf({} as never, { sequence: 1 }),
      () => ledger.accountHistory(user[0] as string, { limit: 'x' as never }),
      () => ledger.accountHistory(user[0] as string, { limit: 0 }),
      () => ledger.accountHistory(user[0] as string, { after: Symbol('s') as never }),
      () => ledger.accountHistory(user[0] as string, { after: 'x1' }),
      () => ledger.accountHistory(user[0] as string, null as never),
      () => ledger.accountHistory(Symbol('a') as never),
      () => ledger.accountHistory('x'.repeat(600)),
      () => ledger.readEvents(0, -1, 10),
      () => ledger.readEvents(0, 0, 'x' as never),
      () => ledger.readEvents(7, 0, 10),
      () => ledger.readEvents('0' as never, 0, 10),
      async () => ledger.shardOf({} as never),
      async () => ledger.shardClient(-1),
    ];
    const codes = await Promise.all(malformed.map((call) => errorCodeOf(call())));
    expect(codes).toEqual(malformed.map(() => 'INVALID_ARGUMENT'));
    const results = (await Promise.all(writes)).flat();
    expect(results.filter((result) => result.status !== 'ok')).toEqual([]);
    expect(results).toHaveLength(1_200);
    expect(restarts).toEqual([]);
    // A lookup of a string that no valid id equals is answered without asking a shard.
    expect(await ledger.lookupTransfers(['x'.repeat(600), 'w-000-000'])).toMatchObject([
      undefined,
      { id: 'w-000-000', state: 'posted' },
    ]);
    expect(
      (await ledger.lookupAccounts(user)).reduce(
        (sum, account) => sum + (account?.creditsPosted ?? 0n),
        0n,
      ),
    ).toBe(1_200n);
    expect((await ledger.verify()).ok).toBe(true);
    open.splice(0);
    await ledger.close();
  });

  it('fail alone when a message cannot be encoded, and the shard client still closes', async () => {
    const ledger = await openLedger();
    // Past the Ledger's checks, straight at the client: a symbol cannot be encoded.
    expect(await errorCodeOf(ledger.shardClient(0).lookupTransfers([Symbol('id')] as never))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(await ledger.shardClient(0).lookupTransfers(['none'])).toEqual([undefined]);
    open.splice(0);
    await ledger.close();
  });
});

describe('LedgerOptions', () => {
  it('refuses each malformed option with INVALID_ARGUMENT before anything is created', async () => {
    const target = join(dir, 'never');
    const bad: Record<string, unknown>[] = [
      { snapshotIntervalEvents: -1 },
      { snapshotIntervalEvents: 0 },
      { snapshotIntervalEvents: 1.5 },
      { snapshotIntervalMs: 'x' },
      { snapshotIntervalMs: -1 },
      { accountHistory: 'yes' },
      { durability: 'lazy' },
      { shards: 0 },
      { shards: 2.5 },
      { shards: '2' },
      { transferIdScope: 'global' },
      { sagaStepTimeoutMs: 0 },
      { shardYoungGenerationMb: 0 },
      { shardYoungGenerationMb: 2.5 },
      { shardYoungGenerationMb: 2048 },
      { failpoints: 5 },
      { dir: '' },
      { dir: 42 },
      { dir: `${target}\0x` },
    ];
    for (const options of bad) {
      const code = await errorCodeOf(
        Ledger.open({ dir: target, ...options } as unknown as LedgerOptions),
      );
      expect(code, JSON.stringify(options)).toBe('INVALID_ARGUMENT');
    }
    expect(await errorCodeOf(Ledger.open(null as never))).toBe('INVALID_ARGUMENT');
    expect(existsSync(target)).toBe(false);
  });

  it('opens shard workers with a bounded young generation that write and read as any other', async () => {
    const ledger = await openLedger({ shardYoungGenerationMb: 4 });
    await ledger.createAccounts([
      { id: 'young-a', currency: 'USD' },
      { id: 'young-b', currency: 'USD' },
    ]);
    const transfers = Array.from({ length: 2_000 }, (_, n) => ({
      id: `young-${String(n).padStart(5, '0')}`,
      debitAccountId: 'young-a',
      creditAccountId: 'young-b',
      amount: 1n,
      currency: 'USD',
      metadata: { note: 'x'.repeat(200) },
    }));
    const results = await ledger.createTransfers(transfers);
    expect(results.every((result) => result.status === 'ok')).toBe(true);
    const found = await ledger.lookupTransfers(transfers.map((transfer) => transfer.id));
    expect(found.map((transfer) => transfer?.id)).toEqual(transfers.map((transfer) => transfer.id));
    expect((await ledger.lookupAccounts(['young-b']))[0]?.balance).toBe(2_000n);
  });

  it('refuses a data dir path that is a file, or lies under one, with INVALID_ARGUMENT (not a raw EEXIST or ENOTDIR)', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a ledger');
    for (const path of [file, join(file, 'below')]) {
      const error = await Ledger.open({ dir: path, shards: 1 }).then(
        () => null,
        (caught: unknown) => caught,
      );
      expect(error, path).toMatchObject({ name: 'LedgerError', code: 'INVALID_ARGUMENT' });
    }
  });
});

describe('balanceAsOf', () => {
  it('returns undefined at a sequence before the account was created, and the account from then on', async () => {
    const ledger = await openLedger({ shards: 1 });
    await ledger.createAccounts([{ id: 'first', currency: 'USD' }]);
    await ledger.createAccounts([{ id: 'second', currency: 'USD' }]);
    await ledger.createTransfers([
      {
        id: 't-1',
        debitAccountId: 'first',
        creditAccountId: 'second',
        amount: 5n,
        currency: 'USD',
      },
    ]);
    expect(await ledger.balanceAsOf('second', { sequence: 0 })).toBeUndefined();
    expect(await ledger.balanceAsOf('second', { sequence: 1 })).toBeUndefined();
    expect(await ledger.balanceAsOf('second', { sequence: 2 })).toMatchObject({
      id: 'second',
      balance: 0n,
    });
    expect(await ledger.balanceAsOf('second', { sequence: 3 })).toMatchObject({
      id: 'second',
      balance: 5n,
    });
    expect(await ledger.balanceAsOf('first', { sequence: 1 })).toMatchObject({
      id: 'first',
      balance: 0n,
    });
  });
});

describe('the read model', () => {
  it('gives a void and a post the state lookupTransfers gives them, on one shard and across shards', async () => {
    const ledger = await openLedger();
    const taken = new Set<string>();
    const payer = idOnShard(ledger, 0, 'payer', taken);
    const near = idOnShard(ledger, 0, 'near', taken);
    const far = idOnShard(ledger, 1, 'far', taken);
    await ledger.createAccounts([payer, near, far].map((id) => ({ id, currency: 'USD' })));
    const hold = (id: string, credit: string) => ({
      id,
      debitAccountId: payer,
      creditAccountId: credit,
      amount: 10n,
      currency: 'USD',
      pending: true,
    });
    expect(
      (
        await ledger.createTransfers([
          hold('h-1', near),
          hold('h-2', near),
          hold('h-3', far),
          hold('h-4', far),
        ])
      ).map((r) => r.status),
    ).toEqual(['ok', 'ok', 'ok', 'ok']);
    await ledger.voidPendingTransfers([
      { id: 'v-1', pendingId: 'h-1' },
      { id: 'v-3', pendingId: 'h-3' },
    ]);
    await ledger.postPendingTransfers([
      { id: 'p-2', pendingId: 'h-2' },
      { id: 'p-4', pendingId: 'h-4' },
    ]);
    const ids = ['h-1', 'h-2', 'h-3', 'h-4', 'v-1', 'v-3', 'p-2', 'p-4'];
    const model = await ReadModel.open({ ledger, path: join(dir, 'rm.sqlite'), follow: false });
    try {
      await model.catchUp({ timeoutMs: 15_000 });
      const projected = model.lookupTransfers(ids).map((transfer) => transfer?.state);
      const live = (await ledger.lookupTransfers(ids)).map((transfer) => transfer?.state);
      expect(live).toEqual([
        'voided',
        'posted',
        'voided',
        'posted',
        'posted',
        'posted',
        'posted',
        'posted',
      ]);
      expect(projected).toEqual(live);
      expect(await errorCodeOf((async () => model.lookupTransfers([{}] as never))())).toBe(
        'INVALID_ARGUMENT',
      );
      expect(await errorCodeOf((async () => model.statement({} as never))())).toBe(
        'INVALID_ARGUMENT',
      );
      expect(
        await errorCodeOf((async () => model.balanceAsOf(payer, { timestamp: 5 as never }))()),
      ).toBe('INVALID_ARGUMENT');
      expect(
        await errorCodeOf(
          (async () => model.transfersByMetadata({ key: 1 as never, value: 'x' }))(),
        ),
      ).toBe('INVALID_ARGUMENT');
    } finally {
      await model.close();
    }
  });
});
