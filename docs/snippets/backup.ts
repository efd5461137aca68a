import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { Ledger } from '@shardledger/shard-router';

const dir = process.env.SHARDLEDGER_DIR ?? './shardledger-data';
await mkdir(dir, { recursive: true });
const ledger = await Ledger.open({ dir: `${dir}/live`, shards: 2 });
await ledger.createAccounts([{ id: 'bank', currency: 'USD' }, { id: 'alice', currency: 'USD' }]);
await ledger.createTransfer({ id: 't-1', debitAccountId: 'bank', creditAccountId: 'alice', amount: 1000n, currency: 'USD' });

// Online: writes go on while the copy is taken. The target must not exist yet.
const inFlight = ledger.createTransfer({ id: 't-2', debitAccountId: 'bank', creditAccountId: 'alice', amount: 1n, currency: 'USD' });
const backup = await ledger.backup(`${dir}/backup-1`);
await inFlight; // acknowledged during the backup: in the copy or not, never half
console.log(`backup in ${backup.dir}: ${backup.shards.length} shards, ${backup.ms.toFixed(0)} ms`);

// A restore is just opening the copy: recovery runs as after any crash.
const restored = await Ledger.open({ dir: backup.dir });
const [alice] = await restored.lookupAccounts(['alice']);
assert.ok(alice?.balance === 1000n || alice?.balance === 1001n); // t-1 is in it for sure
assert.ok((await restored.verify()).ok);
await restored.close();
await ledger.close();
