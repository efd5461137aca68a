// Goal: createTransfers' hot path (memoised account routing, validation without wrappers, statuses
// filled per shard) returns what the plain path would, in input order; method: real 2-shard
// ledgers (compiled workers, LMDB in mkdtemp dirs).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ledger, type TransferInput } from '../src/index.js';
import { tempDir } from '@shardledger/ledger-core/testing';
import { idOnShard } from './ledger-fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
const open: Ledger[] = [];

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir('router-path'));
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((ledger) => ledger.close()));
  await cleanup();
});

async function openLedger(): Promise<Ledger> {
  const ledger = await Ledger.open({ dir, shards: 2, durability: 'relaxed' });
  open.push(ledger);
  return ledger;
}

function usd(
  id: string,
  debitAccountId: string,
  creditAccountId: string,
  amount: bigint,
): TransferInput {
  return { id, debitAccountId, creditAccountId, amount, currency: 'USD' };
}

/** A transfer whose debitAccountId getter returns `first` once, then `later` on every read; it
 * counts its reads in `reads[slot]`. */
function shiftyTransfer(
  id: string,
  first: string,
  later: string,
  creditAccountId: string,
  reads: number[],
  slot: number,
): TransferInput {
  reads[slot] = 0;
  return {
    id,
    get debitAccountId() {
      reads[slot] = (reads[slot] as number) + 1;
      return reads[slot] === 1 ? first : later;
    },
    creditAccountId,
    amount: 5n,
    currency: 'USD',
  };
}

describe('createTransfers hot path', () => {
  it('returns every status in input order for a batch mixing valid, invalid, repeated and cross-shard transfers', async () => {
    const ledger = await openLedger();
    const taken = new Set<string>();
    const a0 = idOnShard(ledger, 0, 'acct', taken);
    const b0 = idOnShard(ledger, 0, 'acct', taken);
    const c1 = idOnShard(ledger, 1, 'acct', taken);
    const d1 = idOnShard(ledger, 1, 'acct', taken);
    const euro = idOnShard(ledger, ledger.shardOf(a0), 'kónto-€', taken);
    const created = await ledger.createAccounts(
      [a0, b0, c1, d1, euro].map((id) => ({ id, currency: 'USD' })),
    );
    expect(created.every((result) => result.status === 'ok')).toBe(true);

    const batch: unknown[] = [
      usd('t-1', a0, b0, 10n),
      usd('t-2', c1, d1, 20n),
      usd('', a0, b0, 1n),
      usd('t-3', 'bad\nid', b0, 1n),
      usd('t-4', a0, '', 1n),
      { ...usd('t-5', a0, b0, 1n), debitAccountId: 42 },
      null,
      usd('t-6', a0, b0, 0n),
      usd('t-7', a0, c1, 7n),
      usd('t-8', a0, b0, 3n),
      usd('t-9', euro, a0, 4n),
      usd('t-10', 'ghost', b0, 1n),
      { ...usd('t-11', a0, b0, 1n), currency: 'usd' },
      usd('t-1', a0, b0, 10n),
    ];
    const results = await ledger.createTransfers(batch as TransferInput[]);
    expect(results).toEqual([
      { id: 't-1', status: 'ok' },
      { id: 't-2', status: 'ok' },
      { id: '', status: 'invalid_id' },
      { id: 't-3', status: 'invalid_id' },
      { id: 't-4', status: 'invalid_id' },
      { id: 't-5', status: 'invalid_id' },
      { id: 'undefined', status: 'invalid_id' },
      { id: 't-6', status: 'invalid_amount' },
      { id: 't-7', status: 'ok' },
      { id: 't-8', status: 'ok' },
      { id: 't-9', status: 'ok' },
      { id: 't-10', status: 'account_not_found' },
      { id: 't-11', status: 'invalid_currency' },
      { id: 't-1', status: 'exists' },
    ]);
    const [a, b, c, euroAccount] = await ledger.lookupAccounts([a0, b0, c1, euro]);
    expect(a).toMatchObject({ debitsPosted: 20n, creditsPosted: 4n });
    expect(b).toMatchObject({ creditsPosted: 13n });
    expect(c).toMatchObject({ debitsPosted: 20n, creditsPosted: 7n });
    expect(euroAccount).toMatchObject({ debitsPosted: 4n });
    expect((await ledger.verify()).ok).toBe(true);
  });

  it('gives the same statuses when the same accounts come back in later calls (memo hits)', async () => {
    const ledger = await openLedger();
    const taken = new Set<string>();
    const ids = [0, 0, 1, 1].map((shard) => idOnShard(ledger, shard, 'm', taken));
    await ledger.createAccounts(ids.map((id) => ({ id, currency: 'USD' })));
    const calls = await Promise.all(
      [0, 1, 2].map((call) =>
        ledger.createTransfers(
          ids.map((id, index) =>
            usd(`c${call}-${index}`, id, ids[index ^ 1] as string, BigInt(call + 1)),
          ),
        ),
      ),
    );
    for (const results of calls)
      expect(results.map((result) => result.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
    const accounts = await ledger.lookupAccounts(ids);
    for (const account of accounts)
      expect(account).toMatchObject({ debitsPosted: 6n, creditsPosted: 6n });
  });

  // A getter that answers differently per read is not a plain TransferInput, but the id that is
  // sent must be the id that was validated and routed. The hot path reads each field once, so
  // the first answer is the one validated, routed and written (an earlier path read twice and
  // sent the second answer).
  it('reads each field once and routes and writes that answer when a getter changes between reads', async () => {
    const ledger = await openLedger();
    const taken = new Set<string>();
    const x0 = idOnShard(ledger, 0, 'g', taken);
    const y1 = idOnShard(ledger, 1, 'g', taken);
    const z1 = idOnShard(ledger, 1, 'g', taken);
    await ledger.createAccounts([x0, y1, z1].map((id) => ({ id, currency: 'USD' })));
    const reads: number[] = [];
    const results = await ledger.createTransfers([
      shiftyTransfer('s-1', x0, y1, z1, reads, 0),
      shiftyTransfer('s-2', x0, '', z1, reads, 1),
    ]);
    expect(results.map((result) => result.status)).toEqual(['ok', 'ok']);
    expect(reads).toEqual([1, 1]);
    const [x, y, z] = await ledger.lookupAccounts([x0, y1, z1]);
    expect(x).toMatchObject({ debitsPosted: 10n, debitsPending: 0n });
    expect(y).toMatchObject({ debitsPosted: 0n, creditsPosted: 0n });
    expect(z).toMatchObject({ creditsPosted: 10n });
    const transfers = await ledger.lookupTransfers(['s-1', 's-2']);
    for (const transfer of transfers)
      expect(transfer).toMatchObject({ debitAccountId: x0, creditAccountId: z1, crossShard: true });
    expect((await ledger.verify()).ok).toBe(true);
  });
});
