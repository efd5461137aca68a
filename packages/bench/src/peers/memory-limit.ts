// Physical limit #1: apply the transfers to balances in typed arrays, in memory, one thread.
// No durability, no ids, no validation beyond the overdraft check: what the CPU can do at best.

import { measure } from '../measure.js';
import type { WorkloadBatch } from '../workload.js';
import type { Peer, RunOptions, RunResult } from './peer.js';
import { assertConserved } from './peer.js';

/** Float64 holds integers exactly up to 2^53; the run asserts it stays below. */
const exactIntegerMaxNote = 'sums stay exact below 2^53';
/** Its throughput is flat after a second; a short window keeps `npm run bench` under 2 minutes. */
export const memoryLimitDurationMsMax = 2000;
const warmupMsMax = 500;
const exactIntegerMax = Number.MAX_SAFE_INTEGER;
const poolBatchCount = 64;

export const memoryLimitPeer: Peer = {
  name: 'memory-limit',
  async run(options: RunOptions): Promise<RunResult> {
    const { workload } = options;
    const accountCount = workload.accountIds.length;
    const debitsPosted = new Float64Array(accountCount);
    const creditsPosted = new Float64Array(accountCount);
    // 0 = no limit; the standard workload never sets debitsMustNotExceedCredits.
    const limitFlags = new Uint8Array(accountCount);
    let appliedCount = 0;
    let appliedAmount = 0;
    // A pool of batches cycled through: this runner does ~30 million transfers a second, and
    // generating them on the fly would measure the generator, not the memory.
    const pool = Array.from({ length: Math.min(workload.batchCount, poolBatchCount) }, (_, index) =>
      workload.batch(index),
    );
    const measurement = await measure({
      label: 'memory-limit',
      warmupMs: Math.min(options.warmupMs, warmupMsMax),
      durationMs: Math.min(options.durationMs, memoryLimitDurationMsMax),
      unitCount: pool.length,
      cycle: true,
      concurrency: 1,
      unitSize: (unit) => (pool[unit] as WorkloadBatch).ids.length,
      step(unit) {
        const batch = pool[unit];
        if (batch === undefined) throw new Error(`no batch ${unit}`);
        const { debit, credit, amount } = batch;
        for (let item = 0; item < debit.length; item++) {
          const debitIndex = debit[item] as number;
          const creditIndex = credit[item] as number;
          const value = amount[item] as number;
          if (
            limitFlags[debitIndex] === 1 &&
            (debitsPosted[debitIndex] as number) + value > (creditsPosted[debitIndex] as number)
          )
            continue;
          debitsPosted[debitIndex] = (debitsPosted[debitIndex] as number) + value;
          creditsPosted[creditIndex] = (creditsPosted[creditIndex] as number) + value;
          appliedCount++;
          appliedAmount += value;
        }
        if (appliedAmount > exactIntegerMax)
          throw new Error('memory-limit: totals beyond 2^53, run shorter');
      },
      progress: options.progress,
    });
    let debitsTotal = 0;
    let creditsTotal = 0;
    for (let index = 0; index < accountCount; index++) {
      debitsTotal += debitsPosted[index] as number;
      creditsTotal += creditsPosted[index] as number;
    }
    const checks = {
      appliedCount,
      debitsTotal: BigInt(debitsTotal),
      creditsTotal: BigInt(creditsTotal),
    };
    assertConserved('memory-limit', checks, BigInt(appliedAmount));
    return {
      name: 'memory-limit',
      method: `typed arrays (Float64Array balances, ${exactIntegerMaxNote}), one thread, no durability, window capped at ${memoryLimitDurationMsMax / 1000} s`,
      checks,
      ...measurement,
    };
  },
};
