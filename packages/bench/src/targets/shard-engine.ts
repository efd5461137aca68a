// One shard's storage engine as a bench runner (the `engine` scenario, see scenarios/engine.ts):
// a ShardEngine opened in this thread on a fresh directory, fed batches already encoded in the
// thread wire format (encodeCommandBatch, what the router does before posting a batch to a shard
// worker) through submitEncoded (what the shard worker calls). Also the engine's in-memory
// transfer kernel (applyPlainTransfer) timed on its own. Both check the money after the run.

import {
  ShardEngine,
  limits,
  parseAccount,
  parseTransfer,
  type Command,
  type Durability,
  type Parsed,
} from '@shardledger/ledger-core';
import {
  accountView,
  applyPlainTransfer,
  decodeResultBatch,
  encodeCommandBatch,
  evolve,
  initialState,
  type LedgerState,
} from '@shardledger/ledger-core/internals';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { measure } from '../measure.js';
import { assertConserved, type RunChecks, type RunResult } from '../peers/peer.js';
import type { Progress } from '../progress.js';
import type { Workload } from '../workload.js';

/** The engine's input: every batch of one run, encoded before the first window and shared by
 * every round (each round opens a fresh engine, so the same ids are new to it). */
export interface EngineInput {
  readonly batches: readonly Uint8Array[];
  readonly sizes: readonly number[];
  /** Each batch's amounts, to sum the ok results after the run. */
  readonly amounts: readonly Uint32Array[];
  readonly encodeS: number;
}

export interface EngineRunSpec {
  readonly base: string;
  readonly workload: Workload;
  readonly input: EngineInput;
  readonly durability: Durability;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly inFlight: number;
  readonly progress: Progress;
  readonly label: string;
  /** Also replay the whole log with verify() after the checks (seconds per million events). */
  readonly verify: boolean;
}

export interface EngineRunResult extends RunResult {
  readonly cpuUsPerTransfer: number;
  readonly syncUsPerTransfer: number;
  readonly plainLaneTransfers: number;
  /** verify()'s time, or null when not asked for. */
  readonly verifyMs: number | null;
}

/** The kernel's window and warm-up caps: its rate is flat after a second, like memory-limit's. */
export const kernelDurationMsMax = 2000;
const kernelWarmupMsMax = 500;
const kernelPoolBatchCount = 8;
const exactIntegerMax = Number.MAX_SAFE_INTEGER;

function mustParse<T>(parsed: Parsed<T>, what: string): T {
  if (!parsed.ok)
    throw new Error(`engine: the workload's ${what} was rejected: ${parsed.code} ${parsed.detail}`);
  return parsed.value;
}

/** Encodes the first `batchCount` batches of the workload as the router would: parseTransfer on
 * each transfer, then encodeCommandBatch per batch. Untimed setup (about 14 ms a batch here). */
export function encodeEngineInput(workload: Workload, batchCount: number): EngineInput {
  const startMs = performance.now();
  const batches: Uint8Array[] = [];
  const sizes: number[] = [];
  const amounts: Uint32Array[] = [];
  for (let index = 0; index < batchCount; index++) {
    const batch = workload.batch(index);
    const commands = new Array<Command>(batch.ids.length);
    for (let item = 0; item < batch.ids.length; item++) {
      const input = {
        id: batch.ids[item] as string,
        debitAccountId: workload.accountIds[batch.debit[item] as number] as string,
        creditAccountId: workload.accountIds[batch.credit[item] as number] as string,
        amount: BigInt(batch.amount[item] as number),
        currency: workload.currency,
      };
      commands[item] = {
        type: 'CreateTransfer',
        transfer: mustParse(parseTransfer(input), 'transfer'),
      };
    }
    batches.push(encodeCommandBatch(commands));
    sizes.push(batch.ids.length);
    amounts.push(batch.amount);
  }
  return { batches, sizes, amounts, encodeS: (performance.now() - startMs) / 1000 };
}

async function createAccounts(engine: ShardEngine, workload: Workload): Promise<void> {
  const commands: Command[] = workload.accountIds.map((id) => ({
    type: 'CreateAccount',
    account: mustParse(parseAccount({ id, currency: workload.currency }), 'account'),
  }));
  for (let start = 0; start < commands.length; start += limits.batchSizeMax) {
    const results = await engine.submit(commands.slice(start, start + limits.batchSizeMax));
    const failed = results.findIndex((result) => result.status !== 'ok');
    if (failed !== -1)
      throw new Error(
        `engine: CreateAccount ${workload.accountIds[start + failed]} -> ${results[failed]?.status}`,
      );
  }
}

interface Tally {
  readonly appliedCount: number;
  readonly appliedAmount: bigint;
  readonly others: Map<string, number>;
}

/** Decodes each call's results (after the window: decoding is the router's work) and sums the
 * amounts of the ok ones. */
function tallyResults(input: EngineInput, results: readonly (Uint8Array | undefined)[]): Tally {
  let appliedCount = 0;
  let appliedAmount = 0;
  const others = new Map<string, number>();
  results.forEach((bytes, unit) => {
    if (bytes === undefined) return;
    const decoded = decodeResultBatch(bytes);
    const amounts = input.amounts[unit] as Uint32Array;
    if (decoded.length !== amounts.length)
      throw new Error(`engine: ${decoded.length} results for a batch of ${amounts.length}`);
    decoded.forEach((result, item) => {
      if (result.status !== 'ok') {
        others.set(result.status, (others.get(result.status) ?? 0) + 1);
        return;
      }
      appliedCount++;
      appliedAmount += amounts[item] as number;
    });
  });
  if (appliedAmount > exactIntegerMax)
    throw new Error('engine: applied amounts beyond 2^53; run shorter');
  return { appliedCount, appliedAmount: BigInt(appliedAmount), others };
}

/** The engine's balances after the run: every account's posted counters summed (lookupAccounts),
 * which must equal the currency totals the engine keeps, with nothing pending. */
async function engineChecks(
  engine: ShardEngine,
  workload: Workload,
  label: string,
  appliedCount: number,
): Promise<RunChecks> {
  let debitsTotal = 0n;
  let creditsTotal = 0n;
  for (let start = 0; start < workload.accountIds.length; start += limits.batchSizeMax) {
    const ids = workload.accountIds.slice(start, start + limits.batchSizeMax);
    const views = await engine.lookupAccounts(ids);
    views.forEach((view, index) => {
      if (view === undefined)
        throw new Error(`${label}: account ${ids[index]} is missing after the run`);
      if (view.debitsPending !== 0n || view.creditsPending !== 0n)
        throw new Error(`${label}: account ${view.id} has pending amounts at quiescence`);
      debitsTotal += view.debitsPosted;
      creditsTotal += view.creditsPosted;
    });
  }
  const info = engine.info();
  const totals = info.totals.find((entry) => entry.currency === workload.currency);
  if (
    totals === undefined ||
    totals.debitsPosted !== debitsTotal ||
    totals.creditsPosted !== creditsTotal
  ) {
    throw new Error(
      `${label}: the engine's currency totals (${totals?.debitsPosted}/${totals?.creditsPosted}) differ from its accounts' (${debitsTotal}/${creditsTotal})`,
    );
  }
  // One AccountCreated per account, then one TransferCreated per ok result: no more, no less.
  const expectedSequence = workload.accountIds.length + appliedCount;
  if (info.lastSequence !== expectedSequence)
    throw new Error(
      `${label}: ${info.lastSequence} events in the log, expected ${expectedSequence}`,
    );
  return { appliedCount, debitsTotal, creditsTotal };
}

/** The checks after a run: the results' tally against the balances, and verify() if asked. */
async function checkRun(
  engine: ShardEngine,
  spec: EngineRunSpec,
  results: readonly (Uint8Array | undefined)[],
): Promise<{ checks: RunChecks; verifyMs: number | null; tally: Tally }> {
  const tally = tallyResults(spec.input, results);
  const checks = await engineChecks(engine, spec.workload, spec.label, tally.appliedCount);
  assertConserved(spec.label, checks, tally.appliedAmount);
  if (!spec.verify) return { checks, verifyMs: null, tally };
  const startMs = performance.now();
  const report = await engine.verify();
  const verifyMs = performance.now() - startMs;
  if (!report.ok)
    throw new Error(`${spec.label}: verify() found ${report.violations.length} violations`);
  return { checks, verifyMs, tally };
}

/** A ShardEngine in this thread with the shard worker's settings. */
function openEngine(dir: string, durability: Durability): Promise<ShardEngine> {
  return ShardEngine.open({
    dir,
    durability, // strict: each group commit is fsynced before its call resolves
    // The shard worker's defaults: snapshots during the run are part of what a shard pays.
    snapshotIntervalEvents: limits.snapshotIntervalEvents,
    snapshotIntervalMs: limits.snapshotIntervalMs,
    accountHistory: true, // the default; no workload account has the history flag
    // mapSizeBytes and clock: the engine's defaults, as in the shard worker.
  });
}

/** The run's method line: how it was driven, whether verify() ran, and the non-ok results. */
function engineMethod(
  spec: EngineRunSpec,
  run: { verifyMs: number | null; tally: Tally; exhausted: boolean },
): string {
  const others = [...run.tally.others].map(([status, count]) => `${status}: ${count}`).join(', ');
  return `ShardEngine.submitEncoded in this thread, batches of ${spec.workload.batchSize} encoded before the window, ${spec.inFlight} calls in flight, \`${spec.durability}\`${run.verifyMs === null ? '' : ', verify() clean'}${others === '' ? '' : `; non-ok: ${others}`}${run.exhausted ? '; the pre-encoded input ran out: window shortened' : ''}`;
}

/** One closed-loop run of a fresh engine: accounts, then the input's batches through
 * submitEncoded with `inFlight` calls in flight until the window closes; then the checks. */
export async function runEngine(spec: EngineRunSpec): Promise<EngineRunResult> {
  const { input, workload } = spec;
  if (input.batches.length < spec.inFlight)
    throw new Error(
      `engine: ${input.batches.length} batches of input for ${spec.inFlight} calls in flight`,
    );
  const dir = await mkdtemp(join(spec.base, 'engine-'));
  const engine = await openEngine(dir, spec.durability);
  try {
    await createAccounts(engine, workload);
    const results = new Array<Uint8Array | undefined>(input.batches.length);
    let windowOpen = false;
    let cpuAtStart = process.cpuUsage();
    let completed = 0;
    let completedAtStart = 0;
    let syncMs = 0;
    let syncTransfers = 0;
    const measurement = await measure({
      label: spec.label,
      warmupMs: spec.warmupMs,
      durationMs: spec.durationMs,
      unitCount: input.batches.length,
      cycle: false, // transfer ids must stay new: the input is never resent
      concurrency: spec.inFlight,
      unitSize: (unit) => input.sizes[unit] as number,
      async step(unit) {
        const beganMs = performance.now();
        const pending = engine.submitEncoded(input.batches[unit] as Uint8Array);
        if (windowOpen) {
          syncMs += performance.now() - beganMs;
          syncTransfers += input.sizes[unit] as number;
        }
        results[unit] = await pending;
        completed += input.sizes[unit] as number;
      },
      onWindowStart() {
        windowOpen = true;
        cpuAtStart = process.cpuUsage();
        completedAtStart = completed;
      },
      progress: spec.progress,
    });
    // Every call has resolved here (measure waits for its callers): the CPU time covers the
    // window and the calls still in flight at its end, which are counted in `completed` too.
    const cpu = process.cpuUsage(cpuAtStart);
    if (measurement.transfers === 0)
      throw new Error(`${spec.label}: the input ran out during the warm-up; shorten --warmup`);
    const { checks, verifyMs, tally } = await checkRun(engine, spec, results);
    return {
      name: spec.label,
      method: engineMethod(spec, { verifyMs, tally, exhausted: measurement.exhausted }),
      checks,
      ...measurement,
      cpuUsPerTransfer: (cpu.user + cpu.system) / Math.max(completed - completedAtStart, 1),
      syncUsPerTransfer: (syncMs * 1000) / Math.max(syncTransfers, 1),
      plainLaneTransfers: engine.plainLaneTransfers,
      verifyMs,
    };
  } finally {
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  }
}

interface KernelBatch {
  readonly debits: readonly string[];
  readonly credits: readonly string[];
  readonly amounts: Uint32Array;
}

function kernelState(workload: Workload): LedgerState {
  const state = initialState();
  let timestamp = 1n;
  for (const id of workload.accountIds)
    evolve(state, {
      type: 'AccountCreated',
      timestamp: timestamp++,
      account: mustParse(parseAccount({ id, currency: workload.currency }), 'account'),
    });
  return state;
}

/** The engine's plain-transfer kernel in memory, one thread: applyPlainTransfer over a pool of
 * the workload's batches (ids already resolved to strings, cycled: the kernel does not look at
 * transfer ids). The balance work of the lane only: no id check, log record or results. */
export async function runEngineKernel(spec: {
  workload: Workload;
  warmupMs: number;
  durationMs: number;
  progress: Progress;
}): Promise<RunResult> {
  const { workload } = spec;
  const state = kernelState(workload);
  const pool: KernelBatch[] = Array.from(
    { length: Math.min(workload.batchCount, kernelPoolBatchCount) },
    (_, index) => {
      const batch = workload.batch(index);
      return {
        debits: Array.from(batch.debit, (at) => workload.accountIds[at] as string),
        credits: Array.from(batch.credit, (at) => workload.accountIds[at] as string),
        amounts: batch.amount,
      };
    },
  );
  let appliedCount = 0;
  let appliedAmount = 0;
  const currency = workload.currency;
  const measurement = await measure({
    label: 'engine kernel',
    warmupMs: Math.min(spec.warmupMs, kernelWarmupMsMax),
    durationMs: Math.min(spec.durationMs, kernelDurationMsMax),
    unitCount: pool.length,
    cycle: true,
    concurrency: 1,
    unitSize: (unit) => (pool[unit] as KernelBatch).amounts.length,
    step(unit) {
      const { debits, credits, amounts } = pool[unit] as KernelBatch;
      for (let item = 0; item < amounts.length; item++) {
        const amount = amounts[item] as number;
        if (
          !applyPlainTransfer(
            state,
            debits[item] as string,
            credits[item] as string,
            currency,
            amount,
            0,
          )
        )
          throw new Error('engine kernel: a workload transfer was declined');
        state.lastSequence += 1;
        appliedAmount += amount;
      }
      appliedCount += amounts.length;
      if (appliedAmount > exactIntegerMax)
        throw new Error('engine kernel: totals beyond 2^53, run shorter');
    },
    progress: spec.progress,
  });
  let debitsTotal = 0n;
  let creditsTotal = 0n;
  for (const account of state.accounts.values()) {
    const view = accountView(account);
    debitsTotal += view.debitsPosted;
    creditsTotal += view.creditsPosted;
  }
  const checks = { appliedCount, debitsTotal, creditsTotal };
  assertConserved('engine kernel', checks, BigInt(appliedAmount));
  return {
    name: 'engine kernel (in memory)',
    method: `applyPlainTransfer (the engine's decide + evolve for a plain transfer) over ${pool.length} pre-resolved batches, cycled, one thread, no durability, no id check or log record, window capped at ${kernelDurationMsMax / 1000} s`,
    checks,
    ...measurement,
  };
}
