// Shared helpers of the Ledger tests: temp data dirs, account ids placed on chosen shards, and
// whole-ledger sums. Not a stub: every helper drives the real Ledger.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLedgerError, type Ledger } from '../src/index.js';

/** A fresh temp dir; `cleanup` removes it. */
export async function tempDir(
  prefix: string,
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `shardledger-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** The first id `${prefix}-N` (N = 0, 1, ...) that the ledger places on `shard`, skipping `taken`. */
export function idOnShard(
  ledger: Pick<Ledger, 'shardOf'>,
  shard: number,
  prefix: string,
  taken: Set<string> = new Set(),
): string {
  for (let index = 0; index < 100_000; index++) {
    const id = `${prefix}-${index}`;
    if (!taken.has(id) && ledger.shardOf(id) === shard) {
      taken.add(id);
      return id;
    }
  }
  throw new Error(`no id with prefix ${prefix} lands on shard ${shard}`);
}

/** The error code a promise rejects with, or undefined when it resolves. */
export async function errorCodeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return isLedgerError(error) ? error.code : `not a LedgerError: ${String(error)}`;
  }
  return undefined;
}

/** Sums over every shard of the ledger, from info(): posted and pending per side, open reservations. */
export async function ledgerTotals(ledger: Ledger): Promise<{
  debitsPosted: bigint;
  creditsPosted: bigint;
  debitsPending: bigint;
  creditsPending: bigint;
  reservationsOpen: number;
}> {
  const info = await ledger.info();
  const sums = {
    debitsPosted: 0n,
    creditsPosted: 0n,
    debitsPending: 0n,
    creditsPending: 0n,
    reservationsOpen: 0,
  };
  for (const shard of info.shardInfo) {
    sums.reservationsOpen += shard.reservationsOpen;
    for (const totals of shard.totals) {
      sums.debitsPosted += totals.debitsPosted;
      sums.creditsPosted += totals.creditsPosted;
      sums.debitsPending += totals.debitsPending;
      sums.creditsPending += totals.creditsPending;
    }
  }
  return sums;
}

/** mulberry32: a small seeded PRNG, so that random schedules can be replayed from a printed seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Runs a test child (`node fixture ...args`) to its end: its output, and its exit code or the
 * signal that ended it. */
export function runToExit(
  fixture: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ stdout: string; stderr: string; code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ stdout, stderr, code, signal }));
  });
}
