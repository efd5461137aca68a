// Probe (not a test, not the main bench): CALLERS concurrent callers, one transfer per call, uniform pairs, UUIDv4 ids,
// SHARDS shards, for DUR_S seconds (ORDERED_IDS=1: ascending ids instead); prints calls/s and CPU µs per transfer by thread.
import { Ledger } from '@shardledger/shard-router';
import { mkdtempSync } from 'node:fs';
import { ThreadCpu } from '../dist/thread-cpu.js';
import { randomUUID } from 'node:crypto';
const l = await Ledger.open({ dir: mkdtempSync('/tmp/sp-'), shards: +(process.env.SHARDS || 1) });
const N = 10000;
const ids = Array.from({ length: N }, (_, i) => 'acct-' + String(i).padStart(6, '0'));
for (let i = 0; i < N; i += 8190)
  await l.createAccounts(ids.slice(i, i + 8190).map((id) => ({ id, currency: 'USD' })));
const callers = +(process.env.CALLERS || 512);
const durMs = 1000 * +(process.env.DUR_S || 8);
let done = 0;
const lat = [];
let stop = false;
let seq = 0;
const nextId = process.env.ORDERED_IDS === '1' ? () => 't-' + String(seq++).padStart(12, '0') : randomUUID;
async function caller() {
  while (!stop) {
    const d = ids[(Math.random() * N) | 0];
    let c = ids[(Math.random() * N) | 0];
    if (c === d) continue;
    const t0 = performance.now();
    const [r] = await l.createTransfers([
      { id: nextId(), debitAccountId: d, creditAccountId: c, amount: 1n, currency: 'USD' },
    ]);
    if (r.status !== 'ok') throw new Error(r.status);
    lat.push(performance.now() - t0);
    done++;
  }
}
// warm-up
stop = false;
setTimeout(() => (stop = true), 1500);
await Promise.all(Array.from({ length: callers }, caller));
done = 0;
lat.length = 0;
stop = false;
const cpu = new ThreadCpu();
cpu.begin();
const t0 = performance.now();
setTimeout(() => (stop = true), durMs);
await Promise.all(Array.from({ length: callers }, caller));
const el = performance.now() - t0;
const perThread = cpu.perTransfer(done);
lat.sort((a, b) => a - b);
console.log(
  `calls/s=${Math.round((done / el) * 1000)} p50=${lat[lat.length >> 1].toFixed(1)}ms p99=${lat[Math.floor(lat.length * 0.99)].toFixed(1)}ms cpu µs/transfer: ${perThread}`,
);
await l.close();
