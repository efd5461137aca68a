// Probe (not a test, not the main bench): the Ledger with SHARDS shards (default 2), ACCOUNTS
// accounts (default 10,000), B calls of BATCH pre-generated transfers each (default 8,190;
// RANDOM_IDS=1: random UUIDs for ids, after ID_PREFIX when set, e.g. ID_PREFIX=payment-; RETRIES:
// see below), CROSS = share across shards (0..1), CONC calls in flight, DUR = strict|relaxed,
// WARM = calls run before the clock starts; prints transfers/s, CPU µs per transfer (all
// threads) and the p50/p99 per call (SLOW=ms also prints each call slower than that).
// Run after 'npx tsc -b': SHARDS=2 CROSS=0 node packages/bench/bin/ledger-probe.mjs (PROF=dir for a profile).
// THREADS=1 (Linux) also prints CPU µs per transfer by thread, from /proc/self/task, in thread
// creation order: the main thread, then V8's platform threads (GC helpers shared by every
// isolate: created at start-up), then the libuv pool and, last, the shard workers and their
// lmdb-js write threads. Every thread is named "node", so the order is the only label.
import { Ledger } from '@shardledger/shard-router';
import { mkdtempSync, writeFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { randomUUID } from 'node:crypto';
import { createPrng } from '../dist/prng.js';
const dir = mkdtempSync('/tmp/lb-');
const shards = +(process.env.SHARDS || 2);
// ID_SCOPE=shard: transferIdScope 'shard' (ids checked by the shards a transfer touches only).
const l = await Ledger.open({
  dir,
  shards,
  durability: process.env.DUR || 'strict',
  transferIdScope: process.env.ID_SCOPE || 'ledger',
  // SHARD_YG=mb: the shard workers' young generation (shardYoungGenerationMb).
  ...(process.env.SHARD_YG ? { shardYoungGenerationMb: +process.env.SHARD_YG } : {}),
  // SNAP_EVENTS=n: snapshotIntervalEvents (a snapshot after every n events).
  ...(process.env.SNAP_EVENTS ? { snapshotIntervalEvents: +process.env.SNAP_EVENTS } : {}),
});
// ACCOUNTS=n: how many accounts (default 10,000; the bench's accounts-1m has 1,000,000).
const N = +(process.env.ACCOUNTS || 10000);
const ids = Array.from({ length: N }, (_, i) => 'acct-' + String(i).padStart(6, '0'));
for (let i = 0; i < N; i += 8190)
  await l.createAccounts(ids.slice(i, i + 8190).map((id) => ({ id, currency: 'USD' })));
// The bench's seeded generator (an exact 32-bit one: a float LCG here once cycled after ~10,000
// draws, which made the pairs repeat).
const prng = createPrng(7);
const rnd = () => prng.nextFloat();
const cross = +(process.env.CROSS || 0);
// RETRIES=r: that share of each batch resubmits the transfer at the same place in an earlier batch
// (identical: its home shard answers `exists`), as a client retrying after a timeout would.
const retries = +(process.env.RETRIES || 0);
// RETRY_LAG=k: the resubmitted transfer is from k calls before (default 1: a call that may still be in
// flight; 8 and more: one long answered, as a retry after a timeout would be).
const retryLag = +(process.env.RETRY_LAG || 1);
const byShard = Array.from({ length: shards }, () => []);
for (const id of ids) byShard[l.shardOf(id)].push(id);
const B = +(process.env.B || 40);
// BATCH=n: transfers per call (default 8,190; small calls make small commits, hence small runs).
const BATCH = +(process.env.BATCH || 8190);
// crypto.randomUUID() returns a chain of concatenated pieces, which the ledger's first pattern
// test must copy into one string (about 0.3 µs); ids parsed from a request are whole strings.
const flat = (id) => Buffer.from(id, 'latin1').toString('latin1');
const batches = [];
let t = 0;
for (let b = 0; b < B; b++) {
  const batch = [];
  for (let i = 0; i < BATCH; i++) {
    const d = ids[Math.floor(rnd() * N)];
    const sd = l.shardOf(d);
    const x = rnd() < cross;
    const pool = x ? byShard[(sd + 1) % shards] : byShard[sd];
    let c = pool[Math.floor(rnd() * pool.length)];
    if (c === d) c = pool[(pool.indexOf(c) + 1) % pool.length];
    if (b >= retryLag && rnd() < retries) {
      batch.push(batches[b - retryLag][i]);
      continue;
    }
    batch.push({
      id:
        process.env.RANDOM_IDS === '1'
          ? flat((process.env.ID_PREFIX ?? '') + randomUUID())
          : 't-' + String(t++).padStart(12, '0'),
      debitAccountId: d,
      creditAccountId: c,
      amount: BigInt(1 + (i % 1000)),
      currency: 'USD',
    });
  }
  batches.push(batch);
}
// CPU ms by thread id, with the thread's name (clock ticks of 10 ms: use long runs).
const threadCpu = () => {
  const m = new Map();
  for (const t of readdirSync('/proc/self/task')) {
    try {
      const st = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      m.set(t, {
        name: st.slice(st.indexOf('(') + 1, st.lastIndexOf(')')),
        ms: (+f[11] + +f[12]) * 10,
      });
    } catch {
      /* the thread ended between readdir and read */
    }
  }
  return m;
};
const conc = +(process.env.CONC || 4);
// WARM=N: the first N batches run before the clock starts (JIT warm-up: a cold 3-second probe at
// 10% cross-shard spends ~4 s of V8's background threads compiling, which THREADS=1 reports).
const WARM = +(process.env.WARM || 0);
{
  const warming = [];
  for (const b of batches.splice(0, WARM)) {
    warming.push(l.createTransfers(b));
    if (warming.length >= conc) await warming.shift();
  }
  await Promise.all(warming);
}
const sess = new Session();
sess.connect();
if (process.env.PROF) {
  await sess.post('Profiler.enable');
  await sess.post('Profiler.start');
}
const threads0 = process.env.THREADS === '1' ? threadCpu() : null;
const t0 = performance.now();
const inflight = [];
let ok = 0;
const cpu0 = process.cpuUsage();
const callMs = [];
for (const b of batches) {
  const sent = performance.now();
  inflight.push(
    l.createTransfers(b).then((rs) => {
      callMs.push(performance.now() - sent);
      if (process.env.SLOW && performance.now() - sent > +process.env.SLOW)
        console.log(
          `slow call: sent at ${(sent - t0).toFixed(0)} ms, ${(performance.now() - sent).toFixed(0)} ms`,
        );
      for (const r of rs) if (r.status === 'ok' || r.status === 'exists') ok++;
    }),
  );
  if (inflight.length >= conc) await inflight.shift();
}
await Promise.all(inflight);
const s = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
if (process.env.PROF) {
  const { profile } = await sess.post('Profiler.stop');
  mkdirSync(process.env.PROF, { recursive: true });
  writeFileSync(process.env.PROF + '/x.cpuprofile', JSON.stringify(profile));
}
if (threads0 !== null) {
  const spent = [...threadCpu()]
    .map(([id, t]) => ({ id, name: t.name, ms: t.ms - (threads0.get(id)?.ms ?? 0) }))
    .filter((t) => t.ms > 0);
  const us = (ms) => ((ms * 1000) / ok).toFixed(2);
  console.log(
    'cpu µs/transfer by thread (creation order): ' +
      spent
        .sort((a, b) => Number(a.id) - Number(b.id))
        .map((t) => `${t.id === String(process.pid) ? 'main' : `#${t.id}`}=${us(t.ms)}`)
        .join(' '),
  );
}
callMs.sort((a, b) => a - b);
const pct = (q) => callMs[Math.min(callMs.length - 1, Math.floor(q * callMs.length))].toFixed(1);
console.log(`per call ms: p50 ${pct(0.5)} p99 ${pct(0.99)} max ${pct(1)}`);
console.log(
  `shards=${shards} cross=${cross} ok=${ok} tps=${Math.round(ok / s)} cpu_us_per_tr(all threads)=${((cpu.user + cpu.system) / ok).toFixed(2)}`,
);
if (process.env.NOVERIFY !== '1') {
  const verifyStart = performance.now();
  const v = await l.verify();
  const verifyMs = (performance.now() - verifyStart).toFixed(0);
  console.log('verify', v.ok, `${verifyMs} ms`, v.violations.slice(0, 2));
}
await l.close();
// The data dir goes with the probe (hundreds of MB per run); KEEP=1 keeps it.
if (process.env.KEEP !== '1') rmSync(dir, { recursive: true, force: true });
