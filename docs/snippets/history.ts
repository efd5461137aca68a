import assert from 'node:assert/strict';
import { Ledger } from '@shardledger/shard-router';

const ledger = await Ledger.open({
  dir: process.env.SHARDLEDGER_DIR ?? './shardledger-data',
  shards: 2,
});
await ledger.createAccounts([
  { id: 'bank', currency: 'USD' },
  { id: 'bob', currency: 'USD', history: true }, // index bob's postings: fast history, balance as of
]);
for (const n of [1, 2, 3, 4]) {
  await ledger.createTransfer({
    id: `pay-${n}`,
    debitAccountId: 'bank',
    creditAccountId: 'bob',
    amount: 100n * BigInt(n),
    currency: 'USD',
  });
}

// The postings of one account, oldest first, a page at a time. Each entry carries the
// account's counters right after that posting: a running balance.
const lines: string[] = [];
// Every list pages the same way: pass `next` back as `after` until it is null.
let after: string | null = null;
do {
  const page = await ledger.accountHistory('bob', { after, limit: 3 });
  for (const entry of page.entries)
    lines.push(`${entry.transferId}: ${entry.creditsPosted - entry.debitsPosted}`);
  after = page.next;
} while (after !== null);
assert.deepEqual(lines, ['pay-1: 100', 'pay-2: 300', 'pay-3: 600', 'pay-4: 1000']);

// Balance as of a past moment: an engine timestamp (ns since the epoch) or a sequence number.
const [pay3] = await ledger.lookupTransfers(['pay-3']);
assert.ok(pay3 !== undefined);
const then = await ledger.balanceAsOf('bob', { timestamp: pay3.timestamp });
assert.equal(then?.balance, 600n);
const [now] = await ledger.lookupAccounts(['bob']);
assert.equal(now?.balance, 1000n);
await ledger.close();
