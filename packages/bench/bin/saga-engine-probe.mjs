// Probe (not a test, not the main bench): one ShardEngine, 10,000 accounts; each round submits a
// batch of 819 one-leg ReserveFunds (half debit legs, half credit legs, time-ordered transfer ids,
// saga ids built as saga-coordinator.ts builds them) in the wire format the shard worker hands
// over (submitEncoded), then the batch of the matching 819 CommitReservation, as the router's
// batched saga does. Strict durability, one call at a time. Prints CPU µs per saga step (all
// threads of the process: the engine's JS plus lmdb-js' write thread) for reserve and commit.
// Run after 'npx tsc -b': node packages/bench/bin/saga-engine-probe.mjs  (ROUNDS=60 by default;
// add --cpu-prof --cpu-prof-dir=DIR to profile, or PROFILE=file.cpuprofile to profile only the
// measured rounds).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Session } from 'node:inspector/promises';
import { createPrng } from '../dist/prng.js';

// CORE=path/to/index.js runs another build of ledger-core (e.g. a copy of dist before a change).
const { ShardEngine, parseAccount, parseTransfer, encodeCommandBatch } = await import(
  process.env.CORE ?? '@shardledger/ledger-core'
);

const dir = mkdtempSync('/tmp/sgp-');
const engine = await ShardEngine.open({ dir, durability: 'strict' });
const N = 10_000;
const STEPS = 819;
const ROUNDS = Number(process.env.ROUNDS ?? 60);
const WARMUP = 10;
const accountId = (index) => 'acct-' + String(index).padStart(6, '0');
const accounts = [];
for (let index = 0; index < N; index += 1) {
  accounts.push({
    type: 'CreateAccount',
    account: parseAccount({ id: accountId(index), currency: 'USD' }).value,
  });
}
for (let index = 0; index < N; index += 8190)
  await engine.submit(accounts.slice(index, index + 8190));

// As saga-coordinator.ts newSagaId: `${firstTransferId}~${random prefix}${counter in base 36}`.
const sagaIdPrefix = randomBytes(9).toString('base64url');
let sagaIdCounter = 0;
const newSagaId = (firstTransferId) =>
  `${firstTransferId}~${sagaIdPrefix}${(sagaIdCounter += 1).toString(36)}`;
const participants = [0, 1];
let transferCount = 0;
// The bench's seeded generator (an exact 32-bit one: a float LCG here once cycled after ~10,000
// draws, which made the pairs repeat).
const prng = createPrng(7);
const random = () => prng.nextFloat();

/** One round: the reserve batch and the commit batch, encoded as the router encodes them. */
function round() {
  const reserves = [];
  const commits = [];
  for (let index = 0; index < STEPS; index += 1) {
    // The account on this shard; the other side lives on the other shard (not here).
    const local = accountId(Math.floor(random() * N));
    const remote = 'remote-' + String(Math.floor(random() * N)).padStart(6, '0');
    const side = index % 2 === 0 ? 'debit' : 'credit';
    const transfer = parseTransfer({
      id: 't-' + String(transferCount++).padStart(12, '0'),
      debitAccountId: side === 'debit' ? local : remote,
      creditAccountId: side === 'debit' ? remote : local,
      amount: BigInt(1 + (index % 1000)),
      currency: 'USD',
    }).value;
    const sagaId = newSagaId(transfer.id);
    reserves.push({ type: 'ReserveFunds', sagaId, participants, legs: [{ side, transfer }] });
    commits.push({ type: 'CommitReservation', sagaId });
  }
  return { reserve: encodeCommandBatch(reserves), commit: encodeCommandBatch(commits) };
}

/** CPU ticks (1/100 s) per thread name, from /proc (Linux): the main thread vs lmdb-js' writer. */
function threadTicks() {
  const ticks = new Map();
  for (const task of readdirSync('/proc/self/task')) {
    try {
      const name = readFileSync(`/proc/self/task/${task}/comm`, 'utf8').trim();
      const fields = readFileSync(`/proc/self/task/${task}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks.set(`${name}#${task}`, Number(fields[11]) + Number(fields[12]));
    } catch {
      // The thread ended meanwhile.
    }
  }
  return ticks;
}

const rounds = Array.from({ length: ROUNDS + WARMUP }, round);
const cpuMicros = (usage) => usage.user + usage.system;
let ticks0 = null;
const session = process.env.PROFILE === undefined ? null : new Session();
if (session !== null) {
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
}
let reserveCpu = 0;
let commitCpu = 0;
let reserveWall = 0;
let commitWall = 0;
for (let index = 0; index < rounds.length; index += 1) {
  if (index === WARMUP) {
    ticks0 = threadTicks();
    if (session !== null) await session.post('Profiler.start');
  }
  const { reserve, commit } = rounds[index];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await engine.submitEncoded(reserve);
  const cpu1 = process.cpuUsage();
  const t1 = performance.now();
  await engine.submitEncoded(commit);
  const cpu2 = process.cpuUsage();
  const t2 = performance.now();
  if (index < WARMUP) continue;
  reserveCpu += cpuMicros(cpu1) - cpuMicros(cpu0);
  commitCpu += cpuMicros(cpu2) - cpuMicros(cpu1);
  reserveWall += t1 - t0;
  commitWall += t2 - t1;
}
if (session !== null) {
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(process.env.PROFILE, JSON.stringify(profile));
}
const steps = ROUNDS * STEPS;
const byThread = [];
for (const [thread, ticks] of threadTicks()) {
  const used = ticks - (ticks0.get(thread) ?? 0);
  if (used > 0)
    byThread.push(`${thread.split('#')[0]} ${((used * 10_000) / (2 * steps)).toFixed(1)}`);
}
const info = engine.info();
if (info.reservationsOpen !== 0)
  throw new Error(`reservations left open: ${info.reservationsOpen}`);
console.log(
  `saga steps: reserve cpu µs/step ${(reserveCpu / steps).toFixed(2)}, commit cpu µs/step ${(commitCpu / steps).toFixed(2)},` +
    ` both ${((reserveCpu + commitCpu) / (2 * steps)).toFixed(2)};` +
    ` wall µs/step reserve ${((reserveWall * 1000) / steps).toFixed(2)}, commit ${((commitWall * 1000) / steps).toFixed(2)};` +
    ` cpu µs/step by thread: ${byThread.join(', ')}`,
);
await engine.close();
// The data dir goes with the probe (hundreds of MB per run); KEEP=1 keeps it.
if (process.env.KEEP !== '1') rmSync(dir, { recursive: true, force: true });
