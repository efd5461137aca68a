// Probe (not a test, not the main bench): one ShardEngine, 10,000 accounts, batches of 8,190
// time-ordered transfers, strict durability, 3 calls in flight; prints transfers/s and CPU us per
// transfer (all threads). Run after 'npx tsc -b': node packages/bench/bin/engine-probe.mjs
// The measured figure, with its peers in the same run and its money checked, is the bench
// scenario `engine` (shardledger bench engine); this probe stays for profiling the engine's write
// path (add --cpu-prof). LANE=0 submits decoded command objects
// (ShardEngine.submit) instead of the wire bytes the shard worker hands over (submitEncoded).
// BATCHES=n times n batches (default 25) after 5 warm-up batches; longer runs average out noise.
// RANDOM_IDS=1 gives each transfer a random (not time-ordered) id, as UUIDv4 keys would: the
// filter of known ids finds each new, the lane applies it, and it is written as its own
// transfers-db entry (one B-tree insert each) instead of in a run.
import { ShardEngine, parseAccount, parseTransfer } from '@shardledger/ledger-core';
import { encodeCommandBatch, decodeCommandBatch } from '@shardledger/ledger-core/internals';
import { mkdtempSync, rmSync } from 'node:fs';
import { createPrng } from '../dist/prng.js';
const dir = mkdtempSync('/tmp/ph-');
const e = await ShardEngine.open({ dir, durability: 'strict' });
const N = 10000;
const accts = [];
for (let i = 0; i < N; i++)
  accts.push({
    type: 'CreateAccount',
    account: parseAccount({ id: 'acct-' + String(i).padStart(6, '0'), currency: 'USD' }).value,
  });
for (let i = 0; i < N; i += 8190) await e.submit(accts.slice(i, i + 8190));
// The bench's seeded generator (an exact 32-bit one: a float LCG here once cycled after ~10,000
// draws, which made the pairs repeat).
const prng = createPrng(7);
const rnd = () => prng.nextFloat();
let t = 0;
const mk = () => {
  const batch = [];
  for (let i = 0; i < 8190; i++) {
    const d = Math.floor(rnd() * N);
    let c = Math.floor(rnd() * N);
    if (c === d) c = (c + 1) % N;
    batch.push({
      type: 'CreateTransfer',
      transfer: parseTransfer({
        id:
          process.env.RANDOM_IDS === '1'
            ? 't-' +
              Math.floor(rnd() * 2 ** 48)
                .toString(16)
                .padStart(12, '0') +
              String(t++)
            : 't-' + String(t++).padStart(12, '0'),
        debitAccountId: `acct-${String(d).padStart(6, '0')}`,
        creditAccountId: `acct-${String(c).padStart(6, '0')}`,
        amount: BigInt(1 + (i % 1000)),
        currency: 'USD',
      }).value,
    });
  }
  const bytes = encodeCommandBatch(batch);
  return lane ? { bytes, length: batch.length } : decodeCommandBatch(bytes);
};
const lane = process.env.LANE !== '0';
// INFLIGHT=n calls in flight (default 3; the shard client keeps up to 4 messages in flight per shard).
const inFlightMax = Number(process.env.INFLIGHT ?? 3);
// syncMs: time in the calls' synchronous part (decide, evolve, encoding; the main thread's share).
let syncMs = 0;
const send = (b) => {
  const s0 = performance.now();
  const p = lane ? e.submitEncoded(b.bytes) : e.submit(b);
  syncMs += performance.now() - s0;
  return p;
};
const batches = Array.from({ length: 5 + Number(process.env.BATCHES ?? 25) }, mk);
for (const b of batches.slice(0, 5)) await send(b);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let n = 0;
syncMs = 0;
const inflight = [];
for (const b of batches.slice(5)) {
  inflight.push(send(b));
  n += b.length;
  if (inflight.length >= inFlightMax) await inflight.shift();
}
await Promise.all(inflight);
const cpu = process.cpuUsage(cpu0);
const wall = performance.now() - t0;
console.log(
  lane ? 'engine strict, encoded lane: tps' : 'engine strict, command objects: tps',
  Math.round((n / wall) * 1000),
  'cpu µs/tr',
  ((cpu.user + cpu.system) / n).toFixed(2),
  'main-thread sync µs/tr',
  ((syncMs * 1000) / n).toFixed(2),
);
await e.close();
// The data dir goes with the probe (hundreds of MB per run); KEEP=1 keeps it.
if (process.env.KEEP !== '1') rmSync(dir, { recursive: true, force: true });
