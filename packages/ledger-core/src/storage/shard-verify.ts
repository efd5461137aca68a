// verify(): replays the whole log into a fresh state and compares it with a copy of the live one
// (cut-state.ts), audits both, and checks that every id the log created is found in the id index
// and known to the shard's filter of known ids.

import { auditStateSteps, diffStatesSteps } from '../domain/audit.js';
import { evolve } from '../domain/evolve.js';
import { initialState, type LedgerState } from '../domain/state.js';
import { findInPlainRun, idsOfPlainRun } from './plain-run.js';
import { corruptionOf } from './corruption.js';
import type { VerifyReport } from './engine-types.js';
import type { EventLog } from './event-log.js';
import type { IdIndex } from './id-index.js';
import { IndexAudit, type FindIndexed } from './index-audit.js';
import type { ShardDatabases } from './lmdb-env.js';
import { runAtOrBelow } from './plain-lane.js';
import { stateOfCut } from './cut-state.js';
import { cutState } from './snapshot-cut.js';

/** The longest verify() replays without giving the worker's thread to queued writes. */
const verifySliceMs = 20;

/** What verify reads: the shard's files, its live state and its id index. */
export interface VerifiedShard {
  readonly dir: string;
  readonly db: ShardDatabases;
  readonly log: EventLog;
  readonly state: LedgerState;
  readonly index: IdIndex;
  /** Resolves once every batch applied so far is in the log (committed). */
  readonly logged: () => Promise<void>;
}

/** verify's index audit's lookups: whether the decider's lookup (context.transfers.get) finds
 * each id of a window, in three passes, each marking the ids it finds (any place the decider's
 * lookup finds an id in counts: it stops at the first).
 * - The plain runs, id by id in log order, with the ids of the plain run that held the last id
 *   kept at hand: the log lists a run's ids in order, so all but the first id of a run are found
 *   in memory instead of by one LMDB cursor and a decoded record per id (which made verify()
 *   some 40 times slower than the replay alone). Random ids are in no plain run: after
 *   `plainMissesMax` of them in a row missed the plain run below them, the try is made for one id
 *   in `plainRetryEvery` only.
 * - The scattered runs, the whole window at once (ScatteredRuns.findEach): each chunk is read
 *   once for all the ids it may hold, not once per id.
 * - What is left (holds, posts and saga records, which the transfers database holds, and any id
 *   a merge moved while the window was looked up), id by id through the decider's lookup. */
function indexLookup(shard: VerifiedShard): FindIndexed {
  let run: ReadonlySet<string> = new Set();
  let plainMisses = 0;
  let skipped = 0;
  const inPlainRun = (id: string): boolean => {
    if (run.has(id)) return true;
    if (plainMisses >= plainMissesMax && (skipped = (skipped + 1) % plainRetryEvery) !== 0)
      return false;
    const value = runAtOrBelow(shard.db.runs, id);
    // The run's ids are read out only when it holds the id.
    if (value !== undefined && findInPlainRun(value, id) !== undefined) {
      run = new Set(idsOfPlainRun(value));
      plainMisses = 0;
      return true;
    }
    plainMisses += 1;
    return false;
  };
  return function* find(ids, found) {
    for (let at = 0; at < ids.length; at += 1) {
      if (inPlainRun(ids[at] as string)) found[at] = 1;
      if (at % 1024 === 1023) yield;
    }
    yield* shard.index.scattered.findEach(ids, found);
    for (let at = 0; at < ids.length; at += 1) {
      if (found[at] === 0 && shard.index.context.transfers.get(ids[at] as string) !== undefined)
        found[at] = 1;
      if (at % 1024 === 1023) yield;
    }
  };
}

/** Runs `steps` to the end, with `pause` between two steps. */
async function allSteps<Result>(
  steps: Generator<void, Result>,
  pause: () => Promise<void>,
): Promise<Result> {
  for (;;) {
    const next = steps.next();
    if (next.done === true) return next.value;
    await pause();
  }
}

const plainMissesMax = 8;
const plainRetryEvery = 256;

/** Verifies the shard. Writes go on meanwhile: the live state is cut at one sequence number,
 * and every later step (the copy, the replay, the comparison and the audits) gives the thread
 * to them at least every verifySliceMs. */
export async function verifyShard(shard: VerifiedShard): Promise<VerifyReport> {
  // Writes wait while this runs: it gives them the thread at least every verifySliceMs.
  let sliceStartedMs = performance.now();
  const pause = async (): Promise<void> => {
    if (performance.now() - sliceStartedMs < verifySliceMs) return;
    await new Promise((resolve) => setImmediate(resolve));
    sliceStartedMs = performance.now();
  };
  // The live state at one sequence number: cut (the only stop of writes), then copied. The cut
  // may hold a batch whose commit is still in flight: the log is read once that has landed, or
  // the replay would stop short of the cut and report the difference.
  const cut = cutState(shard.state);
  const logged = shard.logged();
  const live = await stateOfCut(cut, pause);
  await logged;
  const replayed = initialState();
  const index = new IndexAudit(indexLookup(shard), (id) => !shard.index.transferIds.isNew(id));
  let replayedCount = 0;
  try {
    for (const { sequence, event } of shard.log.events(0)) {
      if (replayed.lastSequence >= live.lastSequence) break;
      index.check(sequence, event, replayed);
      evolve(replayed, event);
      replayedCount += 1;
      if (index.full) await allSteps(index.lookup(), pause);
      else if (replayedCount % 1024 === 0) await pause();
    }
    await allSteps(index.lookup(), pause);
  } catch (error) {
    // A damaged record or index page ends the replay: reported as a violation, like every
    // other finding of verify, naming where it is; the states cannot be compared past it.
    const corrupt = corruptionOf(error, { dir: shard.dir, sequence: replayed.lastSequence + 1 });
    if (corrupt === null) throw error;
    // The ids logged before the damage are still looked up, unless that meets damage too.
    try {
      await allSteps(index.lookup(), pause);
    } catch (again) {
      if (corruptionOf(again, {}) === null) throw again;
    }
    const where = Object.entries(corrupt.detail)
      .map(([key, value]) => `${key}=${String(value)}`)
      .join(', ');
    const violations = [
      { rule: 'storage_intact', detail: `STORAGE_CORRUPT: ${where}` },
      ...index.result(),
    ];
    return { ok: false, violations, eventsReplayed: replayedCount };
  }
  const violations = [
    ...(await allSteps(diffStatesSteps(live, replayed), pause)),
    ...(await allSteps(auditStateSteps(replayed), pause)),
    ...(await allSteps(auditStateSteps(live), pause)),
    ...index.result(),
  ];
  return { ok: violations.length === 0, violations, eventsReplayed: replayedCount };
}
