// One seed of the fault simulator, end to end: the command stream and the faults drawn from the
// seed, a run with faults, a fault-free run of the same stream, and the checks (sim-checks.ts).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '@shardledger/ledger-core/testing';
import { checkRun, compareOutcomes, type SimOutcome } from './sim-checks.js';
import { SimNetwork } from './sim-network.js';
import { drawFaults, noFaults, type FaultCounts, type FaultProfile } from './sim-faults.js';
import { SimScheduler } from './sim-scheduler.js';
import { accountCommandsOf, buildWorkload, type SimWorkload } from './sim-workload.js';

export interface SeedResult {
  readonly seed: number;
  /** Empty when every check held. */
  readonly problems: readonly string[];
  readonly faults: FaultCounts;
  readonly steps: number;
  readonly calls: number;
  readonly attempts: number;
  /** A digest of every scheduling decision: the same seed must give the same one. */
  readonly traceDigest: string;
}

/** Real files on tmpfs where there is one: the engines fsync every saga step, and on a disk
 * that alone would cap the seeds per minute; the code paths are the same. */
function simRoot(): string {
  if (process.env.SIM_DIR !== undefined) return process.env.SIM_DIR;
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

async function runOnce(
  seed: number,
  workload: SimWorkload,
  random: () => number,
  faults: FaultProfile,
): Promise<{ scheduler: SimScheduler; outcome: SimOutcome | null }> {
  const dir = await mkdtemp(join(simRoot(), `shardledger-sim-${seed}-`));
  const network = new SimNetwork({
    dir,
    shardCount: workload.shardCount,
    snapshotIntervalEvents: workload.snapshotIntervalEvents,
  });
  const scheduler = new SimScheduler({ network, workload, random, faults });
  try {
    for (let shard = 0; shard < workload.shardCount; shard += 1) {
      await network.openShard(shard);
      const created = await network
        .engine(shard)
        .submit(
          accountCommandsOf(workload, shard).map((account) => ({ type: 'CreateAccount', account })),
        );
      if (created.some((result) => result.status !== 'ok'))
        throw new Error(`accounts not created on shard ${shard}`);
    }
    await scheduler.run();
    // The fault-free run is only the oracle of answers and balances; the faulty one must also
    // come back from a restart (recovery from the files, then the coordinator's recovery).
    if (faults !== noFaults) await scheduler.restart();
    const outcome = await checkRun(network, workload, scheduler.ops, scheduler.problems);
    return { scheduler, outcome };
  } catch (error) {
    scheduler.problems.push(
      `the run stopped: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    return { scheduler, outcome: null };
  } finally {
    await network.closeAll().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

export async function runSeed(seed: number): Promise<SeedResult> {
  const random = seededRandom(seed);
  const workload = buildWorkload(random);
  const faults = drawFaults(random);
  const faulty = await runOnce(seed, workload, random, faults);
  // The oracle: the same stream, one call at a time, nothing failing.
  const reference = await runOnce(
    seed,
    { ...workload, concurrency: 1 },
    seededRandom(seed ^ 0x5eed),
    noFaults,
  );
  const problems = [
    ...faulty.scheduler.problems,
    ...reference.scheduler.problems.map((problem) => `fault-free run: ${problem}`),
  ];
  if (faulty.outcome !== null && reference.outcome !== null)
    compareOutcomes(faulty.outcome, reference.outcome, problems);
  return {
    seed,
    problems,
    faults: faulty.scheduler.faults,
    steps: faulty.scheduler.steps,
    calls: workload.ops.length,
    attempts: faulty.scheduler.ops.reduce((sum, op) => sum + op.attempts, 0),
    traceDigest: createHash('sha256')
      .update(faulty.scheduler.trace.join('\n'))
      .digest('hex')
      .slice(0, 16),
  };
}
