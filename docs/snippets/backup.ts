import assert from 'node:assert/strict';
import { cp, mkdir } from 'node:fs/promises';
import { Ledger } from '@shardledger/shard-router';

const dir = process.env.SHARDLEDGER_DIR ?? './shardledger-data';
await mkdir(`${dir}/live`, { recursive: true });
const ledger = await Ledger.open({ dir: `${dir}/live`, shards: 2 });
await ledger.createAccounts([{ id: 'bank', currency: 'USD' }, { id: 'alice', currency: 'USD' }]);
await ledger.createTransfer({ id: 't-1', debitAccountId: 'bank', creditAccountId: 'alice', amount: 1000n, currency: 'USD' });

// Close, copy the whole data dir (manifest, every shard, snapshots), open again.
await ledger.close(); // waits for sagas in flight, closes every shard, removes LOCK
await cp(`${dir}/live`, `${dir}/backup`, { recursive: true });
const live = await Ledger.open({ dir: `${dir}/live` });

// A restore is just opening the copy: recovery runs as after any crash.
const restored = await Ledger.open({ dir: `${dir}/backup` });
const [alice] = await restored.lookupAccounts(['alice']);
assert.equal(alice?.balance, 1000n);
assert.ok((await restored.verify()).ok);
await restored.close();
await live.close();
