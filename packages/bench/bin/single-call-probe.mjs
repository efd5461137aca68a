// Probe (not a test, not the main bench): the latency of one createTransfers call of one transfer,
// one call at a time (no load), on a 2-shard strict Ledger with 200 accounts; `cross` makes every
// transfer cross shards (a saga), `local` keeps both accounts on shard 0. 1,500 calls, the first
// 300 not counted. Prints p50 and p99 in ms.
// Run after 'npx tsc -b': node packages/bench/bin/single-call-probe.mjs cross
import { Ledger } from '@shardledger/shard-router';
import { mkdtempSync, rmSync } from 'node:fs';

const mode = process.argv[2] ?? 'cross';
if (mode !== 'cross' && mode !== 'local')
  throw new Error('usage: single-call-probe.mjs cross|local');
const dir = mkdtempSync('/tmp/single-call-');
const ledger = await Ledger.open({ dir, shards: 2, durability: 'strict' });
const ids = Array.from({ length: 200 }, (_, index) => `acct-${index}`);
await ledger.createAccounts(ids.map((id) => ({ id, currency: 'USD' })));
const onShard0 = ids.filter((id) => ledger.shardOf(id) === 0);
const onShard1 = ids.filter((id) => ledger.shardOf(id) === 1);
const latencies = [];
for (let call = 0; call < 1500; call += 1) {
  const debitAccountId = onShard0[call % onShard0.length];
  const creditAccountId =
    mode === 'cross' ? onShard1[call % onShard1.length] : onShard0[(call + 1) % onShard0.length];
  const started = performance.now();
  const [result] = await ledger.createTransfers([
    { id: `t-${call}`, debitAccountId, creditAccountId, amount: 1n, currency: 'USD' },
  ]);
  if (result.status !== 'ok') throw new Error(`t-${call}: ${result.status}`);
  if (call >= 300) latencies.push(performance.now() - started);
}
latencies.sort((left, right) => left - right);
const at = (quantile) =>
  latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * quantile))].toFixed(2);
console.log(`${mode}: ${latencies.length} calls, p50 ${at(0.5)} ms, p99 ${at(0.99)} ms`);
const report = await ledger.verify();
if (!report.ok) throw new Error(`verify: ${JSON.stringify(report.violations.slice(0, 2))}`);
await ledger.close();
rmSync(dir, { recursive: true, force: true });
