// The `recovery` measurement: a child process (bin/recovery-writer.mjs, importing the compiled
// packages) writes N acknowledged transfers to a ledger and keeps writing; the parent kills it
// with SIGKILL mid-write, then times Ledger.open on the same directory (recovery from the log)
// and verify(), and checks that no acknowledged money was lost and none invented.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { balanceTotals } from './targets/run-target.js';
import type { Durability, OpenTarget } from './target.js';
import { generateWorkload } from './workload.js';

/** The child writer; shipped next to dist/ in the package. */
export const recoveryWriterPath = fileURLToPath(
  new URL('../bin/recovery-writer.mjs', import.meta.url),
);
/** The child must report within this long, or the run fails. */
const writeTimeoutMs = 300_000;

export interface RecoveryOptions {
  readonly dir: string;
  readonly shards: number;
  readonly durability: Durability;
  readonly accounts: number;
  /** Acknowledged transfers to write before the kill. */
  readonly transfers: number;
  readonly batchSize: number;
  readonly seed: number;
  readonly openTarget: OpenTarget;
}

export interface RecoveryResult {
  readonly transfersAcknowledged: number;
  readonly writeS: number;
  /** Ledger.open on the killed ledger's directory: recovery from the log. */
  readonly openMs: number;
  readonly verifyMs: number;
  /** Acknowledged transfers per second of open time (a lower bound: the log also holds the
   * accounts and whatever was in flight at the kill). */
  readonly recoveredTps: number;
}

interface WriterReport {
  readonly acknowledged: number;
  readonly amount: string;
  readonly writeMs: number;
}

async function writeThenKill(options: RecoveryOptions): Promise<WriterReport> {
  const spec = {
    dir: options.dir,
    shards: options.shards,
    durability: options.durability,
    accounts: options.accounts,
    transfers: options.transfers,
    batchSize: options.batchSize,
    seed: options.seed,
  };
  const child = spawn(process.execPath, [recoveryWriterPath, JSON.stringify(spec)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const report = await new Promise<WriterReport>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`recovery writer did not report within ${writeTimeoutMs / 1000} s`)),
        writeTimeoutMs,
      );
      child.once('exit', (code, signal) =>
        reject(new Error(`recovery writer exited early (code ${code}, signal ${signal})`)),
      );
      createInterface({ input: child.stdout }).once('line', (line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line) as WriterReport);
      });
    });
    return report;
  } finally {
    child.kill('SIGKILL'); // the crash under test: no close(), no flush, mid-write
    await exited;
  }
}

export async function runRecovery(options: RecoveryOptions): Promise<RecoveryResult> {
  const written = await writeThenKill(options);
  const openStartMs = performance.now();
  const target = await options.openTarget({
    dir: options.dir,
    shards: options.shards,
    durability: options.durability,
  });
  const openMs = performance.now() - openStartMs;
  try {
    const verifyStartMs = performance.now();
    const report = await target.verify();
    const verifyMs = performance.now() - verifyStartMs;
    if (!report.ok)
      throw new Error(
        `recovery: verify() found ${report.violations.length} violations after the kill`,
      );
    const workload = generateWorkload({
      seed: options.seed,
      accountCount: options.accounts,
      batchSize: options.batchSize,
    });
    const totals = await balanceTotals(target, workload);
    if (totals.debitsTotal !== totals.creditsTotal)
      throw new Error(
        `recovery: money not conserved: debits ${totals.debitsTotal} != credits ${totals.creditsTotal}`,
      );
    if (totals.debitsTotal < BigInt(written.amount))
      throw new Error(
        `recovery: acknowledged transfers moved ${written.amount} but only ${totals.debitsTotal} survived the kill`,
      );
    return {
      transfersAcknowledged: written.acknowledged,
      writeS: written.writeMs / 1000,
      openMs,
      verifyMs,
      recoveredTps: written.acknowledged / Math.max(openMs / 1000, 1e-6),
    };
  } finally {
    await target.close();
  }
}
