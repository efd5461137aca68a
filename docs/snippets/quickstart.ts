import assert from 'node:assert/strict';
import { Ledger } from '@shardledger/shard-router';

const ledger = await Ledger.open({ dir: process.env.SHARDLEDGER_DIR ?? './shardledger-data', shards: 2 });
await ledger.createAccounts([
  { id: 'bank', currency: 'USD' }, // may go negative: the money's source
  { id: 'alice', currency: 'USD', debitsMustNotExceedCredits: true }, // a wallet
]);
const [result] = await ledger.createTransfers([
  { id: 't-1', debitAccountId: 'bank', creditAccountId: 'alice', amount: 1000n, currency: 'USD' },
]);
console.log(result); // { id: 't-1', status: 'ok' }, or 'exists' when run again: ids are idempotent
const [alice] = await ledger.lookupAccounts(['alice']);
assert.equal(alice?.balance, 1000n); // minor units: 10.00 USD
const [t1] = await ledger.lookupTransfers(['t-1']);
assert.equal(t1?.state, 'posted');
assert.ok((await ledger.verify()).ok); // every shard replayed, debits equal credits
await ledger.close();
