// Shared helpers of the Ledger tests: account ids placed on chosen shards, whole-ledger sums and
// test children run to their end (temp dirs and the seeded PRNG: @shardledger/ledger-core/testing). Not a stub: every helper drives the real Ledger.
import { spawn } from 'node:child_process';
import { isLedgerError, type Ledger, type TransferInput } from '../src/index.js';

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

/** A USD transfer input of `amount` minor units, with any other fields in `extra`. */
export function usd(
  id: string,
  debitAccountId: string,
  creditAccountId: string,
  amount: bigint,
  extra: Partial<TransferInput> = {},
): TransferInput {
  return { id, debitAccountId, creditAccountId, amount, currency: 'USD', ...extra };
}

/** The error code a promise rejects with, or undefined when it resolves. */
/** A hold (a pending transfer) of `amount` EUR; it never times out unless `timeoutMs` says. */
export function hold(
  id: string,
  from: string,
  to: string,
  amount: bigint,
  timeoutMs = 0,
): TransferInput {
  return {
    id,
    debitAccountId: from,
    creditAccountId: to,
    amount,
    currency: 'EUR',
    pending: true,
    timeoutMs,
  };
}

export async function errorCodeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return isLedgerError(error) ? error.code : `not a LedgerError: ${String(error)}`;
  }
  return undefined;
}

/** The error code a call throws or rejects with, or undefined when it returns. */
export function errorCodeOfCall(call: () => unknown): Promise<string | undefined> {
  return errorCodeOf((async () => call())());
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

/** Runs `script` with `args` in a child process and SIGKILLs it `delayMs` after it printed
 * "ready" (or after `limitMs`, whatever it printed); resolves once it has exited. */
export function runAndKill(
  script: string,
  args: readonly string[],
  delayMs: number,
  limitMs: number,
): Promise<{ ready: boolean; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let ready = false;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      if (!ready && chunk.toString().includes('ready')) {
        ready = true;
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', () => resolve({ ready, stderr }));
    setTimeout(() => child.kill('SIGKILL'), limitMs);
  });
}
