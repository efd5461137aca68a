// Runs the ledger under test (any LedgerTarget) on the workload, then checks every transfer:
// the ok count equals the balance movement, debits equal credits, and verify() is clean.
// A run that loses or invents money throws.

import { measure } from '../measure.js';
import { assertConserved, type RunOptions, type RunResult } from '../peers/peer.js';
import type { LedgerTarget, TransferInput } from '../target.js';
import { accountsOf, transfersOf, type Workload } from '../workload.js';

/** Account creation and lookups go in chunks of this size (the ledger's batch limit is 8,190). */
const accountChunkSize = 8190;

export interface TargetRunOptions extends RunOptions {
  readonly name: string;
  readonly target: LedgerTarget;
  /** createTransfers calls in flight; more than one lets the shards work in parallel. */
  readonly concurrency: number;
}

export async function createWorkloadAccounts(target: LedgerTarget, workload: Workload): Promise<void> {
  const accounts = accountsOf(workload);
  for (let start = 0; start < accounts.length; start += accountChunkSize) {
    const results = await target.createAccounts(accounts.slice(start, start + accountChunkSize));
    const failed = results.find((result) => result.status !== 'ok');
    if (failed !== undefined) throw new Error(`createAccounts: ${failed.id} -> ${failed.status}`);
  }
}

export async function runTarget(options: TargetRunOptions): Promise<RunResult> {
  const { workload, target } = options;
  await createWorkloadAccounts(target, workload);
  // Materialized before timing: the harness must not compete with the ledger for the CPU.
  const batches: TransferInput[][] = workload.batches.map((batch) => transfersOf(workload, batch));
  let appliedCount = 0;
  let appliedAmount = 0n;
  const statusCounts = new Map<string, number>();
  const measurement = await measure({
    label: options.name,
    warmupMs: options.warmupMs,
    durationMs: options.durationMs,
    unitCount: batches.length,
    cycle: false,
    concurrency: options.concurrency,
    unitSize: (unit) => (batches[unit] as TransferInput[]).length,
    async step(unit) {
      const batch = batches[unit] as TransferInput[];
      const results = await target.createTransfers(batch);
      if (results.length !== batch.length) throw new Error(`createTransfers returned ${results.length} results for ${batch.length}`);
      for (let item = 0; item < results.length; item++) {
        const status = (results[item] as { status: string }).status;
        if (status === 'ok') {
          appliedCount++;
          appliedAmount += (batch[item] as TransferInput).amount;
        } else statusCounts.set(status, (statusCounts.get(status) ?? 0) + 1);
      }
    },
    progress: options.progress,
  });
  const checks = { appliedCount, ...(await balanceTotals(target, workload)) };
  assertConserved(options.name, checks, appliedAmount);
  const report = await target.verify();
  if (!report.ok) throw new Error(`${options.name}: verify() found ${report.violations.length} violations: ${JSON.stringify(report.violations.slice(0, 3), (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))}`);
  const others = [...statusCounts].map(([status, count]) => `${status}: ${count}`).join(', ');
  const method = `createTransfers batches of ${workload.batchSize}, ${options.concurrency} calls in flight, verify() clean${others === '' ? '' : `; non-ok: ${others}`}`;
  return { name: options.name, method, checks, ...measurement };
}

async function balanceTotals(target: LedgerTarget, workload: Workload): Promise<{ debitsTotal: bigint; creditsTotal: bigint }> {
  let debitsTotal = 0n;
  let creditsTotal = 0n;
  for (let start = 0; start < workload.accountIds.length; start += accountChunkSize) {
    const ids = workload.accountIds.slice(start, start + accountChunkSize);
    const accounts = await target.lookupAccounts(ids);
    accounts.forEach((account, index) => {
      if (account === undefined) throw new Error(`account ${ids[index]} is missing after the run`);
      if (account.debitsPending !== 0n || account.creditsPending !== 0n) throw new Error(`account ${account.id} has pending amounts at quiescence`);
      debitsTotal += account.debitsPosted;
      creditsTotal += account.creditsPosted;
    });
  }
  return { debitsTotal, creditsTotal };
}
