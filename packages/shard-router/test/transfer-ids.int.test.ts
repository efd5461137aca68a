// Goal: a transfer id is unique across the whole ledger, not only on the shards a transfer touches,
// unless transferIdScope says 'shard'; method: real 4-shard ledgers, an id reused between accounts
// of other shards, in one call, in concurrent calls, across a reopen.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Ledger, type TransferInput } from '../src/index.js';
import { seededRandom, tempDir } from '@shardledger/ledger-core/testing';
import { ledgerTotals, usd } from './ledger-fixtures.js';
import { cleanups, expectClean, openLedger, seed, useCleanups } from './transfer-ids-fixtures.js';

useCleanups();

describe('Transfer ids across shards', () => {
  it('refuses an id taken on one shard for a transfer between accounts of another, and writes nothing', async () => {
    const { ledger } = await openLedger();
    const { on } = await seed(ledger);
    const [a0, b0] = on(0);
    const [a1, b1] = on(1);
    expect((await ledger.createTransfer(usd('t-1', a0, b0, 10n))).status).toBe('ok');
    const before = await ledger.lookupAccounts([a1, b1]);
    expect((await ledger.createTransfer(usd('t-1', a1, b1, 10n))).status).toBe(
      'exists_with_different_fields',
    );
    // An identical resubmission still reads `exists` (its home shard answers).
    expect((await ledger.createTransfer(usd('t-1', a0, b0, 10n))).status).toBe('exists');
    expect(await ledger.lookupAccounts([a1, b1])).toEqual(before);
    expect((await ledger.lookupTransfers(['t-1']))[0]).toMatchObject({
      debitAccountId: a0,
      creditAccountId: b0,
      amount: 10n,
    });
    await expectClean(ledger);
  });

  it('treats an id repeated within one call as one shard would: refused after an accepted one, free after a refused one', async () => {
    const { ledger } = await openLedger();
    const { on, wallet, bank } = await seed(ledger);
    const [a0, b0] = on(0);
    const [a1, b1] = on(1);
    const [a2, b2] = on(2);
    const results = await ledger.createTransfers([
      usd('c-1', a0, b0, 5n),
      usd('c-1', a1, b1, 5n),
      usd('c-2', a2, b2, 5n),
    ]);
    expect(results.map((result) => result.status)).toEqual([
      'ok',
      'exists_with_different_fields',
      'ok',
    ]);
    // The wallet has no funds: its transfer is refused and leaves no record, so the id is free.
    const second = await ledger.createTransfers([
      usd('c-3', wallet, bank, 5n),
      usd('c-3', a1, b1, 7n),
      usd('c-4', a0, b0, 1n),
    ]);
    expect(second.map((result) => result.status)).toEqual(['insufficient_funds', 'ok', 'ok']);
    expect((await ledger.lookupTransfers(['c-3']))[0]).toMatchObject({
      debitAccountId: a1,
      amount: 7n,
    });
    await expectClean(ledger);
  });

  it('gives each transfer of a call mixing new ids, retries and a taken id its own status', async () => {
    const { ledger } = await openLedger();
    const { on } = await seed(ledger);
    const [a0, b0] = on(0);
    const [a1, b1] = on(1);
    const [a2, b2] = on(2);
    expect(
      (await ledger.createTransfers([usd('m-1', a0, b0, 1n), usd('m-2', a1, b1, 1n)])).map(
        (result) => result.status,
      ),
    ).toEqual(['ok', 'ok']);
    // Retries (same home) among new ids: sent in one go, the home shards answer `exists`.
    const retries = await ledger.createTransfers([
      usd('m-3', a0, b0, 2n),
      usd('m-1', a0, b0, 1n),
      usd('m-4', a2, b2, 2n),
      usd('m-2', a1, b1, 5n),
    ]);
    expect(retries.map((result) => result.status)).toEqual([
      'ok',
      'exists',
      'ok',
      'exists_with_different_fields',
    ]);
    // One id taken on another shard: the call goes again transfer by transfer, with the same
    // statuses for the others as without it.
    const taken = await ledger.createTransfers([
      usd('m-5', a0, b0, 3n),
      usd('m-1', a0, b0, 1n),
      usd('m-2', a2, b2, 3n),
      usd('m-6', a1, b1, 3n),
    ]);
    expect(taken.map((result) => result.status)).toEqual([
      'ok',
      'exists',
      'exists_with_different_fields',
      'ok',
    ]);
    const stored = await ledger.lookupTransfers(['m-1', 'm-2', 'm-3', 'm-4', 'm-5', 'm-6']);
    expect(stored.map((transfer) => [transfer?.debitAccountId, transfer?.amount])).toEqual([
      [a0, 1n],
      [a1, 1n],
      [a0, 2n],
      [a2, 2n],
      [a0, 3n],
      [a1, 3n],
    ]);
    await expectClean(ledger);
  });

  // Ordered ids go through the guard's greatest id; random ones (UUIDv4-shaped) through its
  // filter of every id routed, which sends no lookup for an id it has never seen.
  it.each(['ordered', 'random'] as const)(
    'lets exactly one of many concurrent calls take each id, whatever shards their accounts are on (%s ids)',
    async (shape) => {
      const { ledger } = await openLedger();
      const { on } = await seed(ledger);
      const accounts = [0, 1, 2, 3].flatMap((shard) => on(shard));
      const random = seededRandom(20_261_124);
      const pick = (): string => accounts[Math.floor(random() * accounts.length)] as string;
      // Four waves of 6 calls, each wave started while the one before is in flight: a call takes 60
      // ids from those of its wave and of the waves before (new ids, ids in flight elsewhere, ids
      // long taken), each between two accounts picked at random.
      const calls: TransferInput[][] = [];
      const running: Promise<Awaited<ReturnType<Ledger['createTransfers']>>>[] = [];
      for (let wave = 0; wave < 4; wave += 1) {
        const pool = Array.from({ length: 60 * (wave + 1) }, (_, index) =>
          shape === 'ordered' ? `k-${String(index).padStart(3, '0')}` : uuidShaped(index),
        );
        for (let call = 0; call < 6; call += 1) {
          const ids = pool.filter(() => random() < 60 / pool.length);
          const transfers = ids.map((id, index) => {
            const debit = pick();
            let credit = pick();
            while (credit === debit) credit = pick();
            return usd(id, debit, credit, BigInt(1 + ((call + index) % 9)));
          });
          calls.push(transfers);
          running.push(ledger.createTransfers(transfers));
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      const answers = await Promise.all(running);
      const winners = new Map<string, TransferInput>();
      answers.forEach((results, call) =>
        results.forEach((result, index) => {
          // transfer_in_flight: the id's first transfer is a saga still reserved (retryable).
          expect(['ok', 'exists', 'exists_with_different_fields', 'transfer_in_flight']).toContain(
            result.status,
          );
          if (result.status !== 'ok') return;
          expect(winners.has(result.id)).toBe(false);
          winners.set(result.id, (calls[call] as TransferInput[])[index] as TransferInput);
        }),
      );
      expect([...winners.keys()].sort()).toEqual(
        [...new Set(calls.flat().map((transfer) => transfer.id))].sort(),
      );
      const stored = await ledger.lookupTransfers([...winners.keys()]);
      stored.forEach((transfer, index) => {
        const winner = [...winners.values()][index] as TransferInput;
        expect(transfer).toMatchObject({
          debitAccountId: winner.debitAccountId,
          creditAccountId: winner.creditAccountId,
          amount: winner.amount,
        });
      });
      const moved = [...winners.values()].reduce(
        (sum, transfer) => sum + BigInt(transfer.amount),
        0n,
      );
      expect((await ledgerTotals(ledger)).debitsPosted).toBe(moved);
      await expectClean(ledger);
    },
  );

  it('still refuses taken ids after a reopen, older ones and the greatest alike', async () => {
    const { ledger, dir } = await openLedger();
    const { on } = await seed(ledger);
    const [a0, b0] = on(0);
    const [a1, b1] = on(1);
    const [a2, b2] = on(2);
    expect(
      (
        await ledger.createTransfers([
          usd('r-1', a0, b0, 1n),
          usd('r-5', a1, b1, 1n),
          usd('r-9', a2, b2, 1n),
        ])
      ).map((result) => result.status),
    ).toEqual(['ok', 'ok', 'ok']);
    await ledger.close();
    const { ledger: reopened } = await openLedger(dir);
    const results = await reopened.createTransfers([
      usd('r-1', a2, b2, 1n),
      usd('r-5', a0, b0, 1n),
      usd('r-9', a1, b1, 1n),
      usd('r-7', a0, b0, 1n),
    ]);
    expect(results.map((result) => result.status)).toEqual([
      'exists_with_different_fields',
      'exists_with_different_fields',
      'exists_with_different_fields',
      'ok',
    ]);
    await expectClean(reopened);
  });

  it('keeps ids unique once a non-ASCII id is stored (every id is then looked up)', async () => {
    const { ledger, dir } = await openLedger();
    const { on } = await seed(ledger);
    const [a0, b0] = on(0);
    const [a1, b1] = on(1);
    expect((await ledger.createTransfer(usd('zahlung-ü', a0, b0, 1n))).status).toBe('ok');
    expect((await ledger.createTransfer(usd('a-1', a0, b0, 1n))).status).toBe('ok');
    await ledger.close();
    const { ledger: reopened } = await openLedger(dir);
    expect((await reopened.info()).shardInfo[reopened.shardOf(a0)]?.transferIdMax).toBeNull();
    const results = await reopened.createTransfers([
      usd('zahlung-ü', a1, b1, 1n),
      usd('a-1', a1, b1, 1n),
      usd('zz-2', a1, b1, 1n),
    ]);
    expect(results.map((result) => result.status)).toEqual([
      'exists_with_different_fields',
      'exists_with_different_fields',
      'ok',
    ]);
    await expectClean(reopened);
  });
});

describe('transferIdScope', () => {
  it("'shard' leaves ids to the shards a transfer touches, and anything else is refused before the dir is touched", async () => {
    const made = await tempDir('ids-scope');
    cleanups.push(made.cleanup);
    const ledger = await Ledger.open({
      dir: made.dir,
      shards: 4,
      durability: 'relaxed',
      transferIdScope: 'shard',
    });
    cleanups.unshift(() => ledger.close());
    const { on } = await seed(ledger);
    const [a0, b0] = on(0);
    const [a1, b1] = on(1);
    expect((await ledger.createTransfer(usd('s-1', a0, b0, 1n))).status).toBe('ok');
    expect((await ledger.createTransfer(usd('s-1', a1, b1, 1n))).status).toBe('ok');
    expect((await ledger.createTransfer(usd('s-1', a0, b0, 1n))).status).toBe('exists');
    await expectClean(ledger);
    const other = await tempDir('ids-scope-bad');
    cleanups.push(other.cleanup);
    const bad = Ledger.open({
      dir: `${other.dir}/ledger`,
      transferIdScope: 'global' as unknown as 'ledger',
    });
    await expect(bad).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(existsSync(`${other.dir}/ledger`)).toBe(false);
  });
});

/** A UUIDv4-shaped id for `index`, the same in every run, in no order: the hex of a 32-bit mix
 * of the index, repeated. */
function uuidShaped(index: number): string {
  let x = Math.imul(index + 1, 0x9e3779b1) >>> 0;
  x = Math.imul(x ^ (x >>> 15), 0x85ebca6b) >>> 0;
  const hex = (x ^ (x >>> 13)).toString(16).padStart(8, '0');
  return `${hex}-${hex.slice(0, 4)}-4${hex.slice(1, 4)}-8${hex.slice(5, 8)}-${hex}${hex.slice(0, 4)}`;
}
