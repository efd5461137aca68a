// A reconciliation run: the settlement file and the ledger's clearing accounts are read into
// buckets by reference, each bucket is matched (on a piscina pool or on this thread), and the
// breaks, counts and balance checks make the report. Every phase is recorded in the run's
// directory, so a run that was killed resumes where it stopped, and a run of a file already
// reconciled the same way returns its report and changes nothing.

import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { assert } from '@shardledger/ledger-core/internals';
import { LedgerError, type Ledger } from '@shardledger/shard-router';
import { accountIdFor, clearingAccountTemplateDefault } from './accounts.js';
import { checkBalances } from './balance.js';
import type { ClearingSide } from './ledger-source.js';
import { bucketSizeBytes } from './buckets.js';
import { matchBucketFiles, type BucketTask } from './match-worker.js';
import { matchOptionsDefault, type MatchOptions } from './match-options.js';
import { ledgerPhase, settlementPhase } from './phases.js';
import { profileByName, type Profile } from './profiles.js';
import { buildReport, refreshStatuses } from './report-build.js';
import { fileDigest, runIdOf, RunStore } from './run-store.js';
import type { Report, RunInputs, RunRecord } from './run-types.js';
import { checkReconcileOptions } from './options-check.js';

export const runPhases = ['settlement', 'ledger', 'bucket', 'report'] as const;
export type RunPhase = (typeof runPhases)[number];

export interface RunProgress {
  readonly runId: string;
  readonly phase: RunPhase;
  /** For `bucket`: the bucket just matched. */
  readonly bucket?: number;
}

export interface ReconcileOptions {
  readonly ledger: Ledger;
  readonly file: string;
  /** A built-in profile's name, or a profile. */
  readonly profile: string | Profile;
  /** Where runs are recorded (a directory; created when missing). */
  readonly workDir: string;
  /** The metadata key of ledger transfers that holds the match reference. */
  readonly referenceKey?: string;
  readonly clearingSide?: ClearingSide;
  /** Clearing account ids per currency; `{profile}` and `{currency}` are filled in. */
  readonly clearingAccountTemplate?: string;
  /** Ledger transfers at or after this time (ms since the epoch). */
  readonly fromMs?: number;
  /** Ledger transfers before this time; also the cut-off of the balance check. */
  readonly toMs?: number;
  readonly match?: Partial<MatchOptions>;
  /** Buckets the work is split into (1 to 4096, default 256). */
  readonly bucketCount?: number;
  /** 1 (default): match on this thread; more: a piscina pool of that many threads. */
  readonly threads?: number;
  readonly onProgress?: (progress: RunProgress) => void | Promise<void>;
}

export interface ReconcileResult {
  readonly report: Report;
  /** The file had been reconciled the same way before: its report, nothing redone. */
  readonly reused: boolean;
  /** The run had been started before and was finished now. */
  readonly resumed: boolean;
}

export const referenceKeyDefault = 'payment_order_id';

/** What to open a ledger with in a process that reconciles against it: a run looks up every
 * transfer on the clearing accounts, a million for a million-line file, and V8 grows the shard
 * worker's young generation to 32 MB for that and keeps it; bounded to 8 MB, the process holds
 * about 15 MB less at the same speed (docs/reconciliation.md, "Performance"). Spread into
 * Ledger.open's options: `Ledger.open({ dir, ...reconcileLedgerOptions })`. */
export const reconcileLedgerOptions = { shardYoungGenerationMb: 8 } as const;
/** 256: a 1,000,000-line file's bucket is about 4,000 lines and as many transfers, which a match
 * thread holds at once. At 64 (16,000 of each), a 1,000,000-line run held 20 to 40 MB more at
 * its peak, on this thread and across a pool's threads, for no gain in speed. */
export const bucketCountDefault = 256;

async function inputsOf(options: ReconcileOptions, profile: Profile): Promise<RunInputs> {
  const match = { ...matchOptionsDefault, ...options.match };
  const digest = await fileDigest(options.file).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT' && error.code !== 'EISDIR') throw error;
    throw new LedgerError(
      'INVALID_ARGUMENT',
      { reason: 'FILE_NOT_FOUND', path: options.file },
      `INVALID_ARGUMENT: no settlement file at ${options.file}`,
    );
  });
  return {
    file: options.file,
    ...digest,
    profile: profile.name,
    referenceKey: options.referenceKey ?? referenceKeyDefault,
    clearingSide: options.clearingSide ?? 'debit',
    clearingAccountTemplate: options.clearingAccountTemplate ?? clearingAccountTemplateDefault,
    amountBasis: match.amountBasis,
    amountTolerance: match.amountTolerance,
    dateToleranceMs: match.dateToleranceMs,
    autoRules: match.autoRules,
    fromMs: options.fromMs ?? null,
    toMs: options.toMs ?? null,
    bucketCount: options.bucketCount ?? bucketCountDefault,
  };
}

/** The id of the run these options make, without running it: the same id reconcile() records
 * the run under (it reads the whole file, for its digest). */
export async function runIdFor(options: ReconcileOptions): Promise<string> {
  checkReconcileOptions(options);
  const profile =
    typeof options.profile === 'string' ? profileByName(options.profile) : options.profile;
  return runIdOf(await inputsOf(options, profile));
}

/** Reconciles a settlement file against the ledger (see the file's head comment). */
export async function reconcile(options: ReconcileOptions): Promise<ReconcileResult> {
  checkReconcileOptions(options);
  const profile =
    typeof options.profile === 'string' ? profileByName(options.profile) : options.profile;
  const inputs = await inputsOf(options, profile);
  const runId = runIdOf(inputs);
  const store = new RunStore(options.workDir, runId);
  const done = await store.readReport();
  if (done !== undefined) {
    return { report: await refreshStatuses(options.workDir, done), reused: true, resumed: false };
  }
  await store.create();
  const started = await store.readRecord();
  let record: RunRecord = started ?? {
    runId,
    status: 'running',
    inputs,
    settlement: null,
    ledger: null,
  };
  const progress = async (phase: RunPhase, bucket?: number) =>
    options.onProgress?.({ runId, phase, ...(bucket === undefined ? {} : { bucket }) });
  if (record.settlement === null) {
    const settlement = await settlementPhase({
      file: options.file,
      profile,
      dir: store.dir,
      bucketCount: inputs.bucketCount,
      badLinesPath: store.badLinesPath,
    });
    record = { ...record, settlement };
    await store.writeRecord(record);
    await progress('settlement');
  }
  if (record.ledger === null) {
    const currencies = record.settlement!.totals.map((total) => total.currency);
    const ledger = await ledgerPhase({
      ledger: options.ledger,
      clearingAccountIds: currencies.map((currency) =>
        accountIdFor(inputs.clearingAccountTemplate, profile.name, currency),
      ),
      clearingSide: inputs.clearingSide,
      referenceKey: inputs.referenceKey,
      ...(options.fromMs === undefined ? {} : { fromMs: options.fromMs }),
      ...(options.toMs === undefined ? {} : { toMs: options.toMs }),
      dir: store.dir,
      bucketCount: inputs.bucketCount,
    });
    record = { ...record, ledger };
    await store.writeRecord(record);
    await progress('ledger');
  }
  await matchBuckets(
    store,
    inputs,
    { ...matchOptionsDefault, ...options.match },
    options,
    progress,
  );
  const report = await finish(store, record, options);
  await progress('report');
  return { report, reused: false, resumed: started !== undefined };
}

const poolOldGenerationMbMin = 64;
const poolHeapPerBucketByte = 32;
/** The young generation of a pool thread (see matchBuckets). */
const poolYoungGenerationMb = 8;

async function matchBuckets(
  store: RunStore,
  inputs: RunInputs,
  match: MatchOptions,
  options: ReconcileOptions,
  progress: (phase: RunPhase, bucket?: number) => Promise<void>,
): Promise<void> {
  const tasks: BucketTask[] = [];
  for (let bucket = 0; bucket < inputs.bucketCount; bucket += 1) {
    if ((await store.readResult(bucket)) !== undefined) continue;
    tasks.push({ dir: store.dir, bucket, resultPath: store.resultPath(bucket), options: match });
  }
  const threads = options.threads ?? 1;
  if (threads <= 1) {
    for (const task of tasks) {
      await matchBucketFiles(task);
      await progress('bucket', task.bucket);
    }
    return;
  }
  // A pool of exactly `threads` workers for the run, closed after it: matching is CPU-bound work
  // in independent buckets, and a pool kept idle between runs would hold threads for nothing.
  let largestBytes = 0;
  for (const task of tasks)
    largestBytes = Math.max(largestBytes, await bucketSizeBytes(store.dir, task.bucket));
  const pool = new Piscina<BucketTask, { bucket: number }>({
    filename: fileURLToPath(import.meta.resolve('@shardledger/reconciliation/match-worker')),
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 1_000,
    concurrentTasksPerWorker: 1,
    // A thread holds one bucket at a time. Left unbounded, each thread's heap grew by about
    // 100 MB over a 1M-line run, garbage V8 saw no need to collect; bounded from the largest
    // bucket (decoded, a bucket takes several times its bytes on disk: 32 leaves room to spare),
    // it is collected instead.
    // Its young generation is bounded too: matching makes short-lived garbage, and V8's default
    // (up to 48 MB a thread) held about 30 MB of resident memory per thread for nothing: with
    // 8 MB, a 1,000,000-line run on a pool of 2 peaked 60 MB lower in the same time.
    resourceLimits: {
      maxYoungGenerationSizeMb: poolYoungGenerationMb,
      maxOldGenerationSizeMb: Math.max(
        poolOldGenerationMbMin,
        Math.ceil((largestBytes * poolHeapPerBucketByte) / 2 ** 20),
      ),
    },
  });
  try {
    await Promise.all(
      tasks.map(async (task) => {
        const done = await pool.run(task);
        await progress('bucket', done.bucket);
      }),
    );
  } finally {
    await pool.destroy();
  }
}

async function finish(
  store: RunStore,
  record: RunRecord,
  options: ReconcileOptions,
): Promise<Report> {
  const settlement = record.settlement!;
  const { inputs } = record;
  const cutoffMs = inputs.toMs ?? settlement.lastSettledAtMs;
  const balances = await checkBalances({
    ledger: options.ledger,
    totals: settlement.totals,
    profile: inputs.profile,
    clearingAccountTemplate: inputs.clearingAccountTemplate,
    clearingSide: inputs.clearingSide,
    amountBasis: inputs.amountBasis,
    fromMs: inputs.fromMs,
    cutoffMs,
  });
  const results = [];
  for (let bucket = 0; bucket < inputs.bucketCount; bucket += 1) {
    const result = await store.readResult(bucket);
    assert(result !== undefined, `bucket ${bucket} is matched before the report`);
    results.push(result);
  }
  const report = await refreshStatuses(
    options.workDir,
    buildReport({ record, results, balances, cutoffMs }),
  );
  await store.writeRecord({ ...record, status: 'done' });
  await store.writeReport(report);
  return report;
}
