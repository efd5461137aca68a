// Goal: the ledger side of a run hands out every transfer on a clearing account exactly once and
// in the order its shard logged them, over several pages of the change feed.
// Method: a real one-shard ledger in a temp dir holding more than three lookup batches of
// transfers on one clearing account, read back through readLedger.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger, limits, type TransferInput } from '@shardledger/shard-router';
import { tempDir } from '@shardledger/ledger-core/testing';
import { readLedger, type LedgerItem } from '../src/internals.js';

const clearing = 'simulated-clearing-USD';
const transferCount = limits.batchSizeMax * 3 + 1_234;

let ledger: Ledger;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  let dir: string;
  ({ dir, cleanup } = await tempDir('recon-ledger-source'));
  ledger = await Ledger.open({ dir: join(dir, 'ledger'), shards: 1, durability: 'relaxed' });
  await ledger.createAccounts([
    { id: clearing, currency: 'USD', history: true },
    { id: 'merchant-USD', currency: 'USD' },
  ]);
  const batch: TransferInput[] = [];
  for (let n = 0; n < transferCount; n += 1) {
    // Every seventh transfer has no reference: counted apart, in order all the same.
    batch.push({
      id: `t-${String(n).padStart(6, '0')}`,
      debitAccountId: clearing,
      creditAccountId: 'merchant-USD',
      amount: BigInt(100 + n),
      currency: 'USD',
      ...(n % 7 === 0 ? {} : { metadata: { payment_order_id: `PO-${n}` } }),
    });
    if (batch.length === limits.batchSizeMax || n === transferCount - 1) {
      const results = await ledger.createTransfers(batch.splice(0));
      expect(results.every((result) => result.status === 'ok')).toBe(true);
    }
  }
});

afterAll(async () => {
  await ledger.close();
  await cleanup();
});

describe('readLedger', () => {
  it('hands out every transfer once, in log order, across pages of the feed', async () => {
    const items: LedgerItem[] = [];
    let batches = 0;
    for await (const batch of readLedger({
      ledger,
      clearingAccountIds: [clearing],
      clearingSide: 'debit',
      referenceKey: 'payment_order_id',
    })) {
      batches += 1;
      items.push(...batch);
    }
    expect(batches).toBeGreaterThan(3);
    const ids = items.map((item) =>
      item.kind === 'entry' ? item.entry.transferId : item.transferId,
    );
    expect(ids).toEqual(
      Array.from({ length: transferCount }, (_, n) => `t-${String(n).padStart(6, '0')}`),
    );
    const unreferenced = items.filter((item) => item.kind === 'unreferenced');
    expect(unreferenced).toHaveLength(Math.ceil(transferCount / 7));
    const last = items.at(-1);
    expect(last?.kind === 'entry' && last.entry).toMatchObject({
      reference: `PO-${transferCount - 1}`,
      amount: BigInt(100 + transferCount - 1),
      state: 'posted',
    });
  });
});
