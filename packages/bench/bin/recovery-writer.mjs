// Child process of the `recovery` scenario: opens a ledger, creates the accounts, writes
// transfers until `transfers` are acknowledged, prints one JSON line with what was acknowledged,
// then keeps writing until the parent kills it with SIGKILL (so the kill lands mid-write).
// Imports the compiled packages, like an application would. Argument: one JSON object.
import { mkdir } from 'node:fs/promises';
import { Ledger } from '@shardledger/shard-router';
import { generateWorkload, transfersOf, accountsOf } from '@shardledger/bench';

const spec = JSON.parse(process.argv[2] ?? '{}');
await mkdir(spec.dir, { recursive: true });
const ledger = await Ledger.open({
  dir: spec.dir,
  shards: spec.shards,
  durability: spec.durability,
});
const workload = generateWorkload({
  seed: spec.seed,
  accountCount: spec.accounts,
  batchSize: spec.batchSize,
  runId: `recovery-${spec.seed}`,
});
const accounts = accountsOf(workload);
for (let start = 0; start < accounts.length; start += spec.batchSize) {
  const results = await ledger.createAccounts(accounts.slice(start, start + spec.batchSize));
  const failed = results.find((result) => result.status !== 'ok');
  if (failed !== undefined) throw new Error(`createAccounts: ${failed.id} -> ${failed.status}`);
}
const startedMs = performance.now();
let acknowledged = 0;
let amount = 0n;
let reported = false;
let next = 0;
// Two calls in flight per shard, like the throughput runs, so that the shards write in parallel.
const writer = async () => {
  while (next < workload.batchCount) {
    const batch = transfersOf(workload, workload.batch(next++));
    const results = await ledger.createTransfers(batch);
    results.forEach((result, item) => {
      if (result.status !== 'ok') return;
      acknowledged++;
      amount += batch[item].amount;
    });
    if (!reported && acknowledged >= spec.transfers) {
      reported = true;
      const writeMs = performance.now() - startedMs;
      process.stdout.write(
        `${JSON.stringify({ acknowledged, amount: String(amount), writeMs })}\n`,
      );
    }
  }
};
await Promise.all(Array.from({ length: 2 * spec.shards }, writer));
