// Open-loop load at a fixed offered rate, without coordinated omission: send i is scheduled at
// start + i * interval whatever happened to earlier sends, and its latency is measured from that
// scheduled time, not from when the sender got round to it. A ledger that stalls for 100 ms is
// charged those 100 ms on every send that fell due during the stall (a closed-loop driver would
// simply not send them and hide the stall). The arithmetic is pure functions (tested); the
// driver below only adds timers and the ledger.

import type { Progress } from './progress.js';
import { LatencyRecorder, type LatencySummary } from './stats.js';
import type { LedgerTarget, TransferInput } from './target.js';

/** Sends in flight at most; past it the ledger cannot keep up with the offered rate and the run
 * stops sending (reported as saturated) instead of queueing without bound. */
export const openLoopInFlightMax = 256;
/** Shortest interval between sends a timer can keep on this kind of machine. */
export const openLoopIntervalMsMin = 1;

export interface OpenLoopPlan {
  readonly offeredTps: number;
  readonly batchSize: number;
  /** Time between two scheduled sends. */
  readonly intervalMs: number;
  readonly sendCount: number;
}

/** Sends of `batchSize` transfers every `batchSize / offeredTps` seconds over `durationMs`. */
export function planOpenLoop(spec: {
  offeredTps: number;
  batchSize: number;
  durationMs: number;
}): OpenLoopPlan {
  if (!(spec.offeredTps > 0) || !Number.isFinite(spec.offeredTps))
    throw new Error(`offered rate must be > 0, got ${spec.offeredTps}`);
  if (!Number.isInteger(spec.batchSize) || spec.batchSize < 1)
    throw new Error(`batch size must be an integer >= 1, got ${spec.batchSize}`);
  if (!(spec.durationMs > 0)) throw new Error(`duration must be > 0, got ${spec.durationMs}`);
  const intervalMs = (spec.batchSize / spec.offeredTps) * 1000;
  if (intervalMs < openLoopIntervalMsMin) {
    throw new Error(
      `offered rate ${spec.offeredTps}/s with batches of ${spec.batchSize} needs a send every ${intervalMs.toFixed(3)} ms; use larger batches`,
    );
  }
  return {
    offeredTps: spec.offeredTps,
    batchSize: spec.batchSize,
    intervalMs,
    sendCount: Math.max(1, Math.floor(spec.durationMs / intervalMs)),
  };
}

/** When send `index` is due. */
export function scheduledSendMs(plan: OpenLoopPlan, startMs: number, index: number): number {
  return startMs + index * plan.intervalMs;
}

/** How many sends are due at `nowMs` that have not been sent yet (all of them, at once, when the
 * sender fell behind: the schedule never slips). */
export function dueSendCount(
  plan: OpenLoopPlan,
  spec: { startMs: number; nowMs: number; sentCount: number },
): number {
  if (spec.nowMs < spec.startMs) return 0;
  const dueTotal = Math.min(
    plan.sendCount,
    Math.floor((spec.nowMs - spec.startMs) / plan.intervalMs) + 1,
  );
  return Math.max(0, dueTotal - spec.sentCount);
}

/** Latency charged to a send: from when it was due, not from when it went out. */
export function correctedLatencyMs(spec: { scheduledMs: number; completedMs: number }): number {
  return spec.completedMs - spec.scheduledMs;
}

export interface OpenLoopResult {
  readonly plan: OpenLoopPlan;
  readonly sent: number;
  readonly transfers: number;
  readonly durationS: number;
  /** Transfers completed per second over the whole run (equals the offered rate when kept up). */
  readonly achievedTps: number;
  /** From the scheduled time (what a client sees): the figures to report. */
  readonly latency: LatencySummary;
  /** From the actual send time (what a closed-loop driver would report), for comparison. */
  readonly uncorrected: LatencySummary;
  /** True when the in-flight bound was hit and sending stopped early. */
  readonly saturated: boolean;
}

export interface OpenLoopOptions {
  readonly target: LedgerTarget;
  readonly plan: OpenLoopPlan;
  /** The batch for send `index` (built one send ahead, off the timed path). */
  batchFor(index: number): TransferInput[];
  /** Called with each send's results, in completion order. */
  onResults(batch: readonly TransferInput[], results: readonly { status: string }[]): void;
  readonly label: string;
  readonly progress: Progress;
}

export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const { plan, target } = options;
  const corrected = new LatencyRecorder();
  const uncorrected = new LatencyRecorder();
  const inFlight = new Set<Promise<void>>();
  let failure: unknown = null;
  let sent = 0;
  let transfers = 0;
  let saturated = false;
  let next = options.batchFor(0);
  const startMs = performance.now() + 5;
  while (sent < plan.sendCount && failure === null) {
    const nowMs = performance.now();
    let due = dueSendCount(plan, { startMs, nowMs, sentCount: sent });
    while (due-- > 0) {
      if (inFlight.size >= openLoopInFlightMax) {
        saturated = true;
        break;
      }
      const scheduledMs = scheduledSendMs(plan, startMs, sent);
      const batch = next;
      const sentMs = performance.now();
      const call = target
        .createTransfers(batch)
        .then((results) => {
          const completedMs = performance.now();
          corrected.record(correctedLatencyMs({ scheduledMs, completedMs }));
          uncorrected.record(completedMs - sentMs);
          transfers += batch.length;
          options.onResults(batch, results);
        })
        .catch((error: unknown) => {
          failure ??= error;
        });
      inFlight.add(call);
      void call.finally(() => inFlight.delete(call));
      sent++;
      if (sent < plan.sendCount) next = options.batchFor(sent);
    }
    if (saturated) break;
    reportProgress(options, performance.now() - startMs, transfers, corrected);
    const waitMs = scheduledSendMs(plan, startMs, sent) - performance.now();
    if (sent < plan.sendCount)
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, waitMs)));
  }
  await Promise.all(inFlight);
  if (failure !== null) throw failure;
  const durationS = (performance.now() - startMs) / 1000;
  const latency = corrected.summary();
  options.progress.done(doneLine(options, transfers / durationS, latency, saturated));
  return {
    plan,
    sent,
    transfers,
    durationS,
    achievedTps: transfers / durationS,
    latency,
    uncorrected: uncorrected.summary(),
    saturated,
  };
}

/** Offers the progress line the rate so far and the recent p99 from the scheduled times. */
function reportProgress(
  options: OpenLoopOptions,
  elapsedMs: number,
  transfers: number,
  corrected: LatencyRecorder,
): void {
  options.progress.update({
    label: options.label,
    phase: 'measure',
    elapsedMs,
    transfers,
    currentTps: transfers === 0 ? Number.NaN : (transfers / Math.max(elapsedMs, 1)) * 1000,
    p99Ms: corrected.count > 0 ? corrected.recentP99Ms(256) : Number.NaN,
  });
}

/** The progress line's final line: achieved and offered rates, p50 and p99. */
function doneLine(
  options: OpenLoopOptions,
  achievedTps: number,
  latency: LatencySummary,
  saturated: boolean,
): string {
  return `${options.label.padEnd(12)} ${Math.round(achievedTps)
    .toLocaleString('en-US')
    .padStart(
      11,
    )} transfers/s offered ${Math.round(options.plan.offeredTps).toLocaleString('en-US')}  p50 ${latency.p50Ms.toFixed(2)} ms  p99 ${latency.p99Ms.toFixed(2)} ms${saturated ? '  SATURATED' : ''}`;
}
