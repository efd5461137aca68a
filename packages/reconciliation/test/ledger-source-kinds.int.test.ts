// Goal: the ledger side of a run (readLedger, over the change feed) hands out what the ledger's
// own reads say about every kind of transfer on a clearing account: created on the clearing
// account's shard or between shards, plain or held (posted in part, voided, expired, still open),
// refused, in an atomic group, in both directions, with and without a reference, adjusting, and
// within a time window.
// Method: a real two-shard ledger in a temp dir; the reference is the clearing account's history
// plus a lookup of each transfer (fixtures/history-source.ts).
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger, type TransferInput } from '@shardledger/shard-router';
import { tempDir } from '@shardledger/ledger-core/testing';
import { readLedger, type LedgerItem, type LedgerSourceOptions } from '../src/internals.js';
import { itemsByHistory } from './fixtures/history-source.js';

const clearing = 'simulated-clearing-USD';
let ledger: Ledger;
let cleanup: () => Promise<void>;
/** A time between the first transfers and the rest. */
let splitMs = 0;

/** An account id that the ledger places on `shard`. */
function idOn(shard: number, prefix: string): string {
  for (let n = 0; ; n += 1) if (ledger.shardOf(`${prefix}-${n}`) === shard) return `${prefix}-${n}`;
}

beforeAll(async () => {
  let dir: string;
  ({ dir, cleanup } = await tempDir('recon-ledger-kinds'));
  ledger = await Ledger.open({ dir: join(dir, 'ledger'), shards: 2, durability: 'relaxed' });
  const home = ledger.shardOf(clearing);
  const local = idOn(home, 'merchant');
  const remote = idOn(1 - home, 'merchant');
  const limited = idOn(1 - home, 'limited');
  await ledger.createAccounts([
    { id: clearing, currency: 'USD', history: true },
    { id: local, currency: 'USD' },
    { id: remote, currency: 'USD' },
    { id: limited, currency: 'USD', debitsMustNotExceedCredits: true },
  ]);
  const move = (
    id: string,
    from: string,
    to: string,
    amount: bigint,
    extra = {},
  ): TransferInput => ({
    id,
    debitAccountId: from,
    creditAccountId: to,
    amount,
    currency: 'USD',
    metadata: { payment_order_id: `PO-${id}` },
    ...extra,
  });
  const ok = (results: { status: string }[]) =>
    expect(results.map((result) => result.status)).toEqual(results.map(() => 'ok'));
  ok(
    await ledger.createTransfers([
      move('L1', clearing, local, 100n),
      move('L2', clearing, local, 110n, { metadata: null }),
      move('L3', local, clearing, 120n, { metadata: { recon_break_id: 'b-1' } }),
      move('X1', clearing, remote, 700n),
    ]),
  );
  await sleep(5);
  splitMs = Date.now();
  await sleep(5);
  ok(
    await ledger.createTransfers([
      move('L4', local, clearing, 130n),
      move('H1', clearing, local, 500n, { pending: true }),
      move('H2', clearing, local, 510n, { pending: true }),
      move('H3', clearing, local, 520n, { pending: true }),
      move('H4', clearing, local, 530n, { pending: true, timeoutMs: 20 }),
      move('X2', remote, clearing, 710n),
      move('XH1', clearing, remote, 900n, { pending: true }),
      move('XH2', clearing, remote, 910n, { pending: true }),
      move('XH3', clearing, remote, 920n, { pending: true }),
    ]),
  );
  const refused = await ledger.createTransfers([move('X3', limited, clearing, 50n)]);
  expect(refused[0]?.status).not.toBe('ok');
  ok(
    await ledger.createAtomicGroup([
      move('G1', clearing, remote, 40n),
      move('G2', clearing, local, 41n),
    ]),
  );
  ok(
    await ledger.postPendingTransfers([
      { id: 'H1-post', pendingId: 'H1', amount: 300n },
      { id: 'XH1-post', pendingId: 'XH1', amount: 400n },
    ]),
  );
  ok(
    await ledger.voidPendingTransfers([
      { id: 'H2-void', pendingId: 'H2' },
      { id: 'XH2-void', pendingId: 'XH2' },
    ]),
  );
  // H4 times out: wait until the ledger has expired it.
  for (let tries = 0; (await ledger.lookupTransfers(['H4']))[0]?.state !== 'expired'; tries += 1) {
    expect(tries).toBeLessThan(500);
    await sleep(10);
  }
});

afterAll(async () => {
  await ledger.close();
  await cleanup();
});

async function itemsOf(options: LedgerSourceOptions): Promise<LedgerItem[]> {
  const items: LedgerItem[] = [];
  for await (const batch of readLedger(options)) items.push(...batch);
  return items;
}

const idOf = (item: LedgerItem) =>
  item.kind === 'entry' ? item.entry.transferId : item.transferId;
const byId = (items: LedgerItem[]) => [...items].sort((a, b) => (idOf(a) < idOf(b) ? -1 : 1));

describe('readLedger over the change feed', () => {
  for (const side of ['debit', 'credit'] as const) {
    it(`hands out what the history and lookups say, every kind of transfer (clearing side ${side})`, async () => {
      const options = {
        ledger,
        clearingAccountIds: [clearing],
        clearingSide: side,
        referenceKey: 'payment_order_id',
      };
      const items = await itemsOf(options);
      expect(byId(items)).toEqual(byId(await itemsByHistory(options)));
      // And what the scenario made: the refused transfer is not there, every other one once.
      expect(items.map(idOf).sort()).toEqual(
        [
          'G1',
          'G2',
          'H1',
          'H2',
          'H3',
          'H4',
          'L1',
          'L2',
          'L3',
          'L4',
          'X1',
          'X2',
          'XH1',
          'XH2',
          'XH3',
        ].sort(),
      );
      const entry = (id: string) =>
        items.find((item) => item.kind === 'entry' && item.entry.transferId === id);
      const sign = side === 'debit' ? 1n : -1n;
      expect(entry('XH1')).toMatchObject({ entry: { state: 'posted', amount: 400n * sign } });
      expect(entry('XH3')).toMatchObject({ entry: { state: 'pending', amount: 920n * sign } });
      expect(entry('H4')).toMatchObject({ entry: { state: 'voided' } });
      expect(entry('X2')).toMatchObject({ entry: { state: 'posted', amount: -710n * sign } });
      const [g2] = await ledger.lookupTransfers(['G2']);
      expect(g2?.state).toBe('posted');
      expect(entry('G2')).toMatchObject({
        entry: {
          state: 'posted',
          amount: 41n * sign,
          timestampMs: Number(g2!.timestamp / 1_000_000n),
        },
      });
    });
  }

  it('keeps to the window, as the history does', async () => {
    for (const window of [{ fromMs: splitMs }, { toMs: splitMs }]) {
      const options = {
        ledger,
        clearingAccountIds: [clearing],
        clearingSide: 'debit' as const,
        referenceKey: 'payment_order_id',
        ...window,
      };
      const items = await itemsOf(options);
      expect(items.length).toBeGreaterThan(0);
      expect(byId(items)).toEqual(byId(await itemsByHistory(options)));
    }
  });
});
