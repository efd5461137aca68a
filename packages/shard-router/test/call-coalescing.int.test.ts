// Goal: createTransfers calls made at once are joined into one write per turn of the event loop,
// and each caller still gets exactly its own results, in its own order, in the order the calls
// were made. Method: real 2-shard ledgers (compiled workers, LMDB in temp dirs), many concurrent
// calls of one or a few transfers, duplicate ids across calls, a bad input among good ones, and a
// large call made after small ones that share an id with it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '@shardledger/ledger-core/testing';
import { Ledger, type TransferInput } from '../src/index.js';

let dir: string;
let cleanup: () => Promise<void>;
let ledger: Ledger;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir('call-coalescing'));
  ledger = await Ledger.open({ dir, shards: 2 });
  const accounts = ['bank', ...Array.from({ length: 20 }, (_, index) => `acct-${index}`)];
  const results = await ledger.createAccounts(accounts.map((id) => ({ id, currency: 'USD' })));
  expect(results.every((result) => result.status === 'ok')).toBe(true);
});

afterEach(async () => {
  await ledger.close();
  await cleanup();
});

function pay(id: string, to: number, amount = 1n): TransferInput {
  return { id, debitAccountId: 'bank', creditAccountId: `acct-${to}`, amount, currency: 'USD' };
}

describe('concurrent createTransfers calls', () => {
  it('give each caller its own results, in its order, across 300 calls at once', async () => {
    const calls = Array.from({ length: 300 }, (_, call) =>
      Array.from({ length: 1 + (call % 3) }, (_, index) => pay(`c${call}-${index}`, call % 20)),
    );
    const results = await Promise.all(calls.map((transfers) => ledger.createTransfers(transfers)));
    results.forEach((callResults, call) => {
      expect(callResults.map((result) => result.id)).toEqual(
        (calls[call] as TransferInput[]).map((transfer) => transfer.id),
      );
      expect(callResults.every((result) => result.status === 'ok')).toBe(true);
    });
    // Each transfer moved 1 from the bank, once.
    expect((await ledger.lookupAccounts(['bank']))[0]?.debitsPosted).toBe(
      BigInt(calls.flat().length),
    );
    const found = await ledger.lookupTransfers(calls.flat().map((transfer) => transfer.id));
    expect(found.every((transfer) => transfer?.state === 'posted')).toBe(true);
  });

  it('apply an id sent by two calls at once once: the first made is ok, the other exists', async () => {
    const [first, second, other] = await Promise.all([
      ledger.createTransfer(pay('same', 1, 5n)),
      ledger.createTransfer(pay('same', 1, 5n)),
      ledger.createTransfer(pay('same-but-more', 2, 7n)),
    ]);
    expect([first?.status, second?.status, other?.status]).toEqual(['ok', 'exists', 'ok']);
    expect((await ledger.lookupAccounts(['acct-1']))[0]?.creditsPosted).toBe(5n);
  });

  it('keep a bad transfer to its own call', async () => {
    const [good, bad, alsoGood] = await Promise.all([
      ledger.createTransfers([pay('g-1', 3)]),
      ledger.createTransfers([{ ...pay('b-1', 3), amount: 0n }, pay('b-2', 3)]),
      ledger.createTransfers([pay('g-2', 4)]),
    ]);
    expect(good?.map((result) => result.status)).toEqual(['ok']);
    expect(bad?.map((result) => result.status)).toEqual(['invalid_amount', 'ok']);
    expect(alsoGood?.map((result) => result.status)).toEqual(['ok']);
  });

  it('send a large call after the small calls made before it', async () => {
    const small = ledger.createTransfer(pay('shared', 5, 3n));
    const large = ledger.createTransfers(
      Array.from({ length: 100 }, (_, index) =>
        index === 50 ? pay('shared', 5, 3n) : pay(`l-${index}`, 6),
      ),
    );
    const [smallResult, largeResults] = await Promise.all([small, large]);
    expect(smallResult.status).toBe('ok');
    expect(largeResults[50]?.status).toBe('exists');
    expect(largeResults.filter((result) => result.status === 'ok').length).toBe(99);
  });

  it('sends calls made just before close', async () => {
    const pending = ledger.createTransfer(pay('at-close', 7));
    await ledger.close();
    expect((await pending).status).toBe('ok');
    ledger = await Ledger.open({ dir });
    expect((await ledger.lookupTransfers(['at-close']))[0]?.state).toBe('posted');
  });
});
