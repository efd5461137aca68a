// Probe (not a test, not the main bench): the change feed's rate to an in-process consumer that
// only counts. Writes N transfers of the standard workload (uniform pairs, UUIDv4 ids, 10,000
// accounts; DUR relaxed by default, SHARDS 1) into a fresh ledger, then reads the whole feed
// ROUNDS times, each from the start, and prints events/s per round.
// PROF=dir writes a CPU profile of the reads only. Run after 'npx tsc -b':
//   N=1500000 node packages/bench/bin/feed-probe.mjs
import { Ledger } from '@shardledger/shard-router';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { generateWorkload } from '../dist/workload.js';
import { transfersOf } from '../dist/workload.js';

const dir = mkdtempSync('/tmp/feed-probe-');
const shards = +(process.env.SHARDS || 1);
const total = +(process.env.N || 1_500_000);
const ledger = await Ledger.open({ dir, shards, durability: process.env.DUR || 'relaxed' });
const workload = generateWorkload({
  seed: 42,
  accountCount: 10_000,
  transferCount: total,
  shardOf: (id) => ledger.shardOf(id),
  runId: 'feed-probe',
});
const accounts = workload.accountIds.map((id) => ({ id, currency: workload.currency }));
for (let from = 0; from < accounts.length; from += 8190)
  await ledger.createAccounts(accounts.slice(from, from + 8190));
const inFlight = new Set();
for (let index = 0; index < workload.batchCount; index += 1) {
  const call = ledger.createTransfers(transfersOf(workload, workload.batch(index)));
  inFlight.add(call);
  call.finally(() => inFlight.delete(call));
  if (inFlight.size >= 2) await Promise.race(inFlight);
}
await Promise.all(inFlight);
const info = await ledger.info();
const events = info.shardInfo.reduce((sum, shard) => sum + shard.lastSequence, 0);
const session = process.env.PROF ? new Session() : null;
if (session) {
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
}
for (let round = 0; round < +(process.env.ROUNDS || 3); round += 1) {
  const start = performance.now();
  let seen = 0;
  for await (const change of ledger.changes()) seen += change.balances.length > 0 ? 1 : 0;
  const ms = performance.now() - start;
  if (seen !== events) throw new Error(`feed gave ${seen} of ${events}`);
  console.log(`round ${round}: ${seen} events in ${ms.toFixed(0)} ms: ${Math.round(seen / (ms / 1000))} events/s`);
}
if (session) {
  const { profile } = await session.post('Profiler.stop');
  mkdirSync(process.env.PROF, { recursive: true });
  writeFileSync(process.env.PROF + '/feed.cpuprofile', JSON.stringify(profile));
}
await ledger.close();
rmSync(dir, { recursive: true, force: true });
