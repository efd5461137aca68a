import assert from 'node:assert/strict';
import { Ledger, type ChangeEvent } from '@shardledger/shard-router';

const ledger = await Ledger.open({
  dir: process.env.SHARDLEDGER_DIR ?? './shardledger-data',
  shards: 2,
});
await ledger.createAccounts([
  { id: 'bank', currency: 'USD' },
  { id: 'dave', currency: 'USD' },
]);
await ledger.createTransfer({
  id: 'payout-1',
  debitAccountId: 'bank',
  creditAccountId: 'dave',
  amount: 700n,
  currency: 'USD',
});

// A consumer's own store: its data and the feed's cursor, written together (one transaction in
// a real database), so that a restart resumes exactly after the last event it kept.
const store = { seen: [] as string[], cursor: null as string | null };
function keep(change: ChangeEvent, cursor: string): void {
  for (const balance of change.balances) {
    store.seen.push(
      `${change.event.type} ${balance.accountId} ${balance.creditsPosted - balance.debitsPosted}`,
    );
  }
  store.cursor = cursor;
}

const feed = ledger.changes({ after: store.cursor });
for await (const change of feed) keep(change, feed.cursor);
// bank and dave may live on different shards: then each shard logs its side of the transfer.
assert.ok(store.seen.includes('AccountCreated dave 0'));
assert.ok(store.seen.some((line) => line.endsWith('dave 700')));
assert.ok(store.seen.some((line) => line.endsWith('bank -700')));

// Later (or after a restart): only what came after the stored cursor.
await ledger.createTransfer({
  id: 'payout-2',
  debitAccountId: 'bank',
  creditAccountId: 'dave',
  amount: 50n,
  currency: 'USD',
});
const seenBefore = store.seen.length;
const resumed = ledger.changes({ after: store.cursor });
for await (const change of resumed) keep(change, resumed.cursor);
assert.ok(store.seen.slice(seenBefore).some((line) => line.endsWith('dave 750')));
assert.ok(!store.seen.slice(seenBefore).some((line) => line.includes('AccountCreated')));

// Following: new events as they commit, until the signal aborts (or the loop breaks).
const stop = new AbortController();
const following = ledger.changes({ after: store.cursor, follow: true, signal: stop.signal });
const next = following.next();
await ledger.createTransfer({
  id: 'payout-3',
  debitAccountId: 'dave',
  creditAccountId: 'bank',
  amount: 25n,
  currency: 'USD',
});
const first = await next;
assert.equal(first.done, false);
stop.abort();
await ledger.close();
