// Probe (not a test, not the main bench): T transfers (default 300,000) written in calls of 8,190
// on one shard, then every one looked up in shuffled calls of 1,000 ids, as reconciliation reads a
// settlement file; prints µs per lookup (wall) and CPU µs per lookup (all threads). RANDOM_IDS=1:
// random UUIDv4 ids instead of ordered ones. Run after 'npx tsc -b':
// T=200000 node packages/bench/bin/lookup-probe.mjs
import { Ledger } from '@shardledger/shard-router';
import { mkdtempSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
const l = await Ledger.open({ dir: mkdtempSync('/tmp/lk-'), shards: 1 });
const N = 1000;
const acc = Array.from({ length: N }, (_, i) => 'acct-' + String(i).padStart(6, '0'));
await l.createAccounts(acc.map((id) => ({ id, currency: 'USD' })));
const T = +(process.env.T || 300000);
const ids = [];
for (let b = 0; b < T; b += 8190) {
  const batch = [];
  for (let i = 0; i < 8190 && b + i < T; i++) {
    const id =
      process.env.RANDOM_IDS === '1' ? randomUUID() : 'tr-' + String(b + i).padStart(10, '0');
    ids.push(id);
    batch.push({
      id,
      debitAccountId: acc[(b + i) % N],
      creditAccountId: acc[(b + i + 1) % N],
      amount: 1n,
      currency: 'USD',
    });
  }
  await l.createTransfers(batch);
}
// shuffle lookups order like a settlement file would
for (let i = ids.length - 1; i > 0; i--) {
  const j = (i * 7919) % (i + 1);
  [ids[i], ids[j]] = [ids[j], ids[i]];
}
const t0 = performance.now();
const c0 = process.cpuUsage();
let found = 0;
for (let i = 0; i < ids.length; i += 1000)
  found += (await l.lookupTransfers(ids.slice(i, i + 1000))).filter(Boolean).length;
const ms = performance.now() - t0;
const c = process.cpuUsage(c0);
console.log(
  'lookups',
  ids.length,
  'found',
  found,
  'µs/lookup wall',
  ((ms * 1000) / ids.length).toFixed(2),
  'cpu all threads µs',
  ((c.user + c.system) / ids.length).toFixed(2),
);
await l.close();
