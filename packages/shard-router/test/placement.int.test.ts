// Goal: where accounts live does not show in an account's history: the same calls on a 1-shard
// and on a 2-shard ledger list the same entries (transfer id, event type, counters after), with
// or without the history index. A transfer between shards runs as a saga there; its steps must
// read as one shard's events, and a transfer the other shard refused must not show at all.
// Method: real ledgers (compiled workers, LMDB in temp dirs), accounts placed on different shards
// of the 2-shard ledger.
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '@shardledger/ledger-core/testing';
import { join } from 'node:path';
import {
  Ledger,
  ReadModel,
  type AccountInput,
  type HistoryPage,
  type TransferInput,
} from '../src/index.js';
import { idOnShard } from './ledger-fixtures.js';

const opened: { ledger: Ledger; dir: string; cleanup: () => Promise<void> }[] = [];
afterEach(async () => {
  for (const { ledger, cleanup } of opened.splice(0)) {
    await ledger.close();
    await cleanup();
  }
});

async function openLedger(shards: number): Promise<Ledger> {
  const { dir, cleanup } = await tempDir(`placement-${shards}`);
  const ledger = await Ledger.open({ dir, shards });
  opened.push({ ledger, dir, cleanup });
  return ledger;
}

/** Runs the same calls on `ledger`; returns the history of each account, as compared. */
async function scenario(ledger: Ledger, ids: { payer: string; payee: string; capped: string }) {
  const accounts: AccountInput[] = [
    { id: 'bank', currency: 'USD' },
    { id: ids.payer, currency: 'USD', history: true },
    { id: ids.payee, currency: 'USD' },
    // Refuses credits beyond its debits: its side of a transfer to it is refused.
    { id: ids.capped, currency: 'USD', history: true, creditsMustNotExceedDebits: true },
  ];
  expect((await ledger.createAccounts(accounts)).map((result) => result.status)).toEqual(
    accounts.map(() => 'ok'),
  );
  const pay = (id: string, from: string, to: string, amount: bigint): TransferInput => ({
    id,
    debitAccountId: from,
    creditAccountId: to,
    amount,
    currency: 'USD',
  });
  const statuses = async (transfers: TransferInput[]) =>
    (await ledger.createTransfers(transfers)).map((result) => result.status);
  expect(await statuses([pay('fund', 'bank', ids.payer, 100n)])).toEqual(['ok']);
  expect(await statuses([pay('t-1', ids.payer, ids.payee, 30n)])).toEqual(['ok']);
  // Refused by the capped account's side.
  expect(await statuses([pay('t-2', ids.payer, ids.capped, 5n)])).toEqual(['exceeds_debits']);
  const hold = { ...pay('h-1', ids.payer, ids.payee, 20n), pending: true };
  expect(await statuses([hold])).toEqual(['ok']);
  const posted = await ledger.postPendingTransfers([{ id: 'p-1', pendingId: 'h-1', amount: 15n }]);
  expect(posted.map((result) => result.status)).toEqual(['ok']);
  const held = { ...pay('h-2', ids.payer, ids.payee, 7n), pending: true };
  expect(await statuses([held])).toEqual(['ok']);
  const voided = await ledger.voidPendingTransfers([{ id: 'v-2', pendingId: 'h-2' }]);
  expect(voided.map((result) => result.status)).toEqual(['ok']);
  // An atomic group of two transfers from the payer: across shards, one saga whose steps post
  // both to the payer's account at once.
  const group = await ledger.createAtomicGroup([
    pay('g-1', ids.payer, ids.payee, 4n),
    pay('g-2', ids.payer, ids.payee, 6n),
  ]);
  expect(group.map((result) => result.status)).toEqual(['ok', 'ok']);
  const [grouped] = await ledger.lookupTransfers(['g-2']);
  const asOfGroup = await ledger.balanceAsOf(ids.payer, { timestamp: grouped!.timestamp });
  const history = async (accountId: string) => {
    const whole = (await ledger.accountHistory(accountId, { limit: 100 })).entries;
    // Page by page, one entry a page: the same entries, none lost between two legs of a step.
    const paged = [];
    let after: string | null = null;
    do {
      const page: HistoryPage = await ledger.accountHistory(accountId, { after, limit: 1 });
      paged.push(...page.entries);
      after = page.next;
    } while (after !== null);
    expect(paged).toEqual(whole);
    return whole.map((entry) => ({
      transferId: entry.transferId,
      eventType: entry.eventType,
      debitsPosted: entry.debitsPosted,
      creditsPosted: entry.creditsPosted,
      debitsPending: entry.debitsPending,
      creditsPending: entry.creditsPending,
    }));
  };
  // The read model's statements: the same kinds and amounts, whatever the placement.
  const dir = opened.find((entry) => entry.ledger === ledger)?.dir as string;
  const model = await ReadModel.open({ ledger, path: join(dir, 'rm.sqlite') });
  let statements;
  try {
    await model.waitFor('latest', { timeoutMs: 20_000 });
    const statement = (accountId: string) =>
      model.statement({ accountId }).entries.map((entry) => ({
        transferId: entry.transferId,
        kind: entry.kind,
        amount: entry.amount,
      }));
    statements = { payer: statement(ids.payer), payee: statement(ids.payee) };
  } finally {
    await model.close();
  }
  return {
    asOfGroup: asOfGroup && { debitsPosted: asOfGroup.debitsPosted, balance: asOfGroup.balance },
    payer: await history(ids.payer),
    payee: await history(ids.payee),
    capped: await history(ids.capped),
    statements,
  };
}

describe('history does not depend on placement', () => {
  it('lists the same entries and statements on 1 shard and across 2, refused transfers not at all', async () => {
    const split = await openLedger(2);
    const taken = new Set<string>();
    const ids = {
      payer: idOnShard(split, 0, 'payer', taken),
      payee: idOnShard(split, 1, 'payee', taken),
      capped: idOnShard(split, 1, 'capped', taken),
    };
    const across = await scenario(split, ids);
    const single = await scenario(await openLedger(1), ids);
    expect(across).toEqual(single);
    // The refused transfer left nothing in the payer's history; the others one entry each
    // (funding, t-1, the hold, its post, the second hold, its void, the group's two transfers).
    expect(single.payer.map((entry) => entry.eventType)).toEqual([
      'TransferCreated',
      'TransferCreated',
      'TransferCreated',
      'PendingTransferPosted',
      'TransferCreated',
      'PendingTransferVoided',
      'TransferCreated',
      'TransferCreated',
    ]);
    expect(single.payer.slice(-2).map((entry) => entry.transferId)).toEqual(['g-1', 'g-2']);
  });
});
