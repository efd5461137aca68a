// Runs the ledger under test (any LedgerTarget) on the workload, then checks every transfer:
// the ok count equals the balance movement, debits equal credits, and verify() is clean.
// A run that loses or invents money throws.

import { measure } from '../measure.js';
import { ThreadCpu } from '../thread-cpu.js';
import { assertConserved, type RunChecks, type RunOptions, type RunResult } from '../peers/peer.js';
import type { LedgerTarget, TransferInput } from '../target.js';
import { accountsOf, transfersOf, type Workload } from '../workload.js';

/** Account creation and lookups go in chunks of this size (the ledger's batch limit is 8,190). */
const accountChunkSize = 8190;

export interface TargetRunOptions extends RunOptions {
  readonly name: string;
  readonly target: LedgerTarget;
  /** createTransfers calls in flight; more than one lets the shards work in parallel. */
  readonly concurrency: number;
  /** Runs once the window's last call is answered, before the money checks and verify(). */
  readonly onWindowEnd?: () => Promise<void>;
}

export async function createWorkloadAccounts(
  target: LedgerTarget,
  workload: Workload,
): Promise<void> {
  const accounts = accountsOf(workload);
  for (let start = 0; start < accounts.length; start += accountChunkSize) {
    const results = await target.createAccounts(accounts.slice(start, start + accountChunkSize));
    const failed = results.find((result) => result.status !== 'ok');
    if (failed !== undefined) throw new Error(`createAccounts: ${failed.id} -> ${failed.status}`);
  }
}

/** A unit's transfers as the ledger takes them, and how many of them cross shards. */
interface BuiltBatch {
  readonly transfers: TransferInput[];
  readonly crossShardCount: number;
}

/** Builds the ledger's input objects for a batch one call ahead of need (see runTarget). Each
 * unit's batch is generated once and kept with its unit until the call is done: with many small
 * calls in flight (single-calls: 512 of one transfer) the workload's own cache of the latest
 * batches cannot hold them, and generating a batch again for each look at it cost the harness
 * more than the ledger's own work. Only the input objects are kept, in a ring of slots: the
 * generated batch (typed-array views, id slices) and any map entry would outlive a
 * young-generation collection of the calling thread and be promoted. With 512 calls of one
 * transfer in flight, those were 99% of what the main thread promoted (a heap sampling profile
 * of `bench single-calls` keeping only what minor collections did not free: 217 MB in 5 s), and
 * copying them took its scavenges to about 6 ms each. */
class BatchBuilder {
  private readonly workload: Workload;
  private readonly units: number[];
  private readonly built: (BuiltBatch | null)[];
  /** Units are taken in increasing order; one already taken is never built again. */
  private lastTaken = -1;

  constructor(workload: Workload, concurrency: number) {
    this.workload = workload;
    // Twice the calls in flight: a unit built ahead never takes the slot of one not yet taken.
    const slots = 2 * concurrency;
    this.units = new Array<number>(slots).fill(-1);
    this.built = new Array<BuiltBatch | null>(slots).fill(null);
  }

  take(unit: number): BuiltBatch {
    const slot = unit % this.built.length;
    const kept = this.units[slot] === unit ? this.built[slot] : null;
    this.units[slot] = -1;
    this.built[slot] = null;
    this.lastTaken = Math.max(this.lastTaken, unit);
    return kept ?? this.build(unit);
  }

  prefetch(unit: number): void {
    const slot = unit % this.built.length;
    if (unit > this.lastTaken && unit < this.workload.batchCount && this.units[slot] !== unit) {
      this.built[slot] = this.build(unit);
      this.units[slot] = unit;
    }
  }

  private build(unit: number): BuiltBatch {
    const batch = this.workload.batch(unit);
    return {
      transfers: transfersOf(this.workload, batch),
      crossShardCount: batch.crossShardCount,
    };
  }
}

/** Transfers in unit `unit` of the workload, without generating it. */
function unitSizeOf(workload: Workload, unit: number): number {
  return Math.min(workload.batchSize, workload.transferCount - unit * workload.batchSize);
}

export async function runTarget(options: TargetRunOptions): Promise<TargetRunResult> {
  const { workload, target } = options;
  await createWorkloadAccounts(target, workload);
  // Transfers are generated and turned into objects on the fly, one call ahead: right after a
  // call is handed to the ledger (whose shards work in their own threads), the caller builds
  // the batch it will send after it. Pre-building a whole window would cost seconds and
  // gigabytes at a million transfers a second; this costs the main thread what building its
  // input costs any application, and it is counted in the ledger's time (a conservative figure).
  const builder = new BatchBuilder(workload, options.concurrency);
  for (let unit = 0; unit < options.concurrency; unit++) builder.prefetch(unit);
  let appliedCount = 0;
  let appliedAmount = 0n;
  let crossShardTransfers = 0;
  const statusCounts = new Map<string, number>();
  const threadCpu = new ThreadCpu();
  const measurement = await measure({
    label: options.name,
    warmupMs: options.warmupMs,
    durationMs: options.durationMs,
    unitCount: workload.batchCount,
    cycle: false,
    concurrency: options.concurrency,
    unitSize: (unit) => unitSizeOf(workload, unit),
    async step(unit) {
      const built = builder.take(unit);
      const batch = built.transfers;
      const pending = target.createTransfers(batch);
      // After the ledger has posted this call's messages (it does so on the next turn of the
      // event loop, to coalesce concurrent calls): building the next batch first would hold
      // them back for as long as that takes, with the shards idle.
      setImmediate(() => builder.prefetch(unit + options.concurrency));
      const results = await pending;
      if (results.length !== batch.length)
        throw new Error(`createTransfers returned ${results.length} results for ${batch.length}`);
      crossShardTransfers += built.crossShardCount;
      // Summed as a number within the call (exact: a batch's amounts stay far below 2^53, checked),
      // then added to the bigint total once: a bigint per transfer is garbage the harness, not the
      // ledger, would make.
      let callAmount = 0;
      for (let item = 0; item < results.length; item++) {
        const status = (results[item] as { status: string }).status;
        if (status === 'ok') {
          appliedCount++;
          callAmount += Number((batch[item] as TransferInput).amount);
        } else statusCounts.set(status, (statusCounts.get(status) ?? 0) + 1);
      }
      if (!Number.isSafeInteger(callAmount))
        throw new Error(`a batch's amounts sum past 2^53: ${callAmount}`);
      appliedAmount += BigInt(callAmount);
    },
    onWindowStart: () => threadCpu.begin(),
    progress: options.progress,
  });
  const cpu = threadCpu.perTransfer(measurement.transfers);
  await options.onWindowEnd?.();
  const checks = await checkMoney({
    name: options.name,
    target,
    workload,
    appliedCount,
    appliedAmount,
  });
  const others = [...statusCounts].map(([status, count]) => `${status}: ${count}`).join(', ');
  const method =
    `createTransfers batches of ${workload.batchSize}, ${options.concurrency} calls in flight, verify() clean${others === '' ? '' : `; non-ok: ${others}`}` +
    (cpu === null
      ? ''
      : `; CPU µs per transfer by thread over the window (Linux, in creation order: the main thread, V8's GC helpers, libuv, then shard workers and LMDB writers): ${cpu}`);
  return { name: options.name, method, checks, crossShardTransfers, ...measurement };
}

export interface TargetRunResult extends RunResult {
  /** Transfers sent (warm-up and window) whose two accounts live on different shards. */
  readonly crossShardTransfers: number;
}

/** The end-of-run money check: ok results sum to the balance movement (debits == credits ==
 * sum of ok amounts), no pending amounts, and verify() is clean. Throws otherwise. */
export async function checkMoney(spec: {
  name: string;
  target: LedgerTarget;
  workload: Workload;
  appliedCount: number;
  appliedAmount: bigint;
}): Promise<RunChecks> {
  const checks = {
    appliedCount: spec.appliedCount,
    ...(await balanceTotals(spec.target, spec.workload)),
  };
  assertConserved(spec.name, checks, spec.appliedAmount);
  const report = await spec.target.verify();
  if (!report.ok)
    throw new Error(
      `${spec.name}: verify() found ${report.violations.length} violations: ${JSON.stringify(report.violations.slice(0, 3), (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))}`,
    );
  return checks;
}

async function balanceTotals(
  target: LedgerTarget,
  workload: Workload,
): Promise<{ debitsTotal: bigint; creditsTotal: bigint }> {
  let debitsTotal = 0n;
  let creditsTotal = 0n;
  for (let start = 0; start < workload.accountIds.length; start += accountChunkSize) {
    const ids = workload.accountIds.slice(start, start + accountChunkSize);
    const accounts = await target.lookupAccounts(ids);
    accounts.forEach((account, index) => {
      if (account === undefined) throw new Error(`account ${ids[index]} is missing after the run`);
      if (account.debitsPending !== 0n || account.creditsPending !== 0n)
        throw new Error(`account ${account.id} has pending amounts at quiescence`);
      debitsTotal += account.debitsPosted;
      creditsTotal += account.creditsPosted;
    });
  }
  return { debitsTotal, creditsTotal };
}
export { balanceTotals };
