// Probe (not a test, not the main bench): an open loop against the Ledger with 2 shards and
// 10,000 accounts. A createTransfers call of 512 same-shard transfers is due every 512 / RATE
// seconds for MS milliseconds. Each batch is built when it is due, and its latency is measured
// from that due time (no coordinated omission). Prints p50/p99, the achieved rate, and the calls
// slower than 150 ms with their due time. Run after 'npx tsc -b':
//   RATE=100000 MS=10000 node packages/bench/bin/open-loop-probe.mjs
import { Ledger } from '@shardledger/shard-router';
import { mkdtempSync, rmSync } from 'node:fs';
import { createPrng } from '../dist/prng.js';
const dir = mkdtempSync('/tmp/ol-');
const l = await Ledger.open({ dir, shards: 2, durability: 'strict' });
const N = 10000;
const ids = Array.from({ length: N }, (_, i) => 'acct-' + String(i).padStart(6, '0'));
for (let i = 0; i < N; i += 8190)
  await l.createAccounts(ids.slice(i, i + 8190).map((id) => ({ id, currency: 'USD' })));
const byShard = [[], []];
for (const id of ids) byShard[l.shardOf(id)].push(id);
// The bench's seeded generator (an exact 32-bit one: a float LCG here once cycled after ~10,000
// draws, which made the pairs repeat).
const prng = createPrng(7);
const rnd = () => prng.nextFloat();
let t = 0;
const mk = () =>
  Array.from({ length: 512 }, () => {
    const pool = byShard[rnd() < 0.5 ? 0 : 1];
    const d = Math.floor(rnd() * pool.length);
    let c = Math.floor(rnd() * pool.length);
    if (c === d) c = (c + 1) % pool.length;
    return {
      id: 't-' + String(t++).padStart(12, '0'),
      debitAccountId: pool[d],
      creditAccountId: pool[c],
      amount: 1n,
      currency: 'USD',
    };
  });
const rate = +(process.env.RATE || 90000);
const interval = (512 / rate) * 1000;
const lat = [];
const slow = [];
const start = performance.now();
let sent = 0;
const pending = [];
const m0 = l.shardClient(0).submitMessagesSent + l.shardClient(1).submitMessagesSent;
while (performance.now() - start < +(process.env.MS || 5000)) {
  const due = start + sent * interval;
  const now = performance.now();
  if (now < due) {
    await new Promise((r) => setTimeout(r, Math.max(0, due - now - 0.5)));
    continue;
  }
  const b = mk();
  const sched = due;
  sent++;
  pending.push(
    l.createTransfers(b).then(() => {
      const x = performance.now() - sched;
      lat.push(x);
      if (x > 150) slow.push(Math.round(sched - start) + ':' + Math.round(x));
    }),
  );
}
await Promise.all(pending);
lat.sort((a, b) => a - b);
console.log(
  `rate ${rate}: calls ${sent}, messages ${l.shardClient(0).submitMessagesSent + l.shardClient(1).submitMessagesSent - m0}, p50 ${lat[Math.floor(lat.length / 2)].toFixed(1)} ms, p99 ${lat[Math.floor(lat.length * 0.99)].toFixed(1)} ms, achieved ${((sent * 512) / ((performance.now() - start) / 1000)).toFixed(0)}/s`,
);
console.log('slow calls (t:ms)', slow.slice(0, 40).join(' '));
const i0 = await l.shardClient(0).info();
console.log('snapshots', JSON.stringify(i0.snapshots), 'lastSeq', i0.lastSequence);
await l.close();
// The data dir goes with the probe (hundreds of MB per run); KEEP=1 keeps it.
if (process.env.KEEP !== '1') rmSync(dir, { recursive: true, force: true });
