// The scattered runs of a shard (scattered-run.ts) as lookups and merges see them: every run
// listed here is stored, or kept in memory. A commit adds at most one new run and takes a step of
// at most one merge: the oldest `scatteredRunFanout` committed runs of the lowest level that has
// that many become one run of the next level, unless it would hold more than
// `scatteredRunEntriesMax` transfers (runs that large stay as they are). A merge runs on the
// shard's thread, so it is made a step per commit (mergeStepEntries), its chunks written as they
// are cut, and the merged run listed, its inputs removed, by the commit that takes its last step:
// no commit waits for a whole large merge. So a shard keeps about (fanout - 1) runs per level,
// plus one per entriesMax transfers.
//
// Only runs too large to be merged again are written. A run that a later merge will take is kept
// in memory (the log holds its transfers), so each transfer is written to the index once, not
// once per level: the bytes a commit syncs set the rate of random ids. The meta key
// DEFERRED_FROM names the least log sequence whose transfers may be in no stored run, written by
// the commits that change it; on open, recovery finds those transfers in the log again and writes
// their entries (engine-recovery.ts). So that open never reads far back, every run kept longer
// than `deferredCommitsMax` commits is written, with the others kept then; a merge that takes a
// stored run writes its run too.
//
// The records that a commit's sagas close under new ids (IdIndex.stageEvent) come as a run of
// their own, written with the commit: the log alone does not give them back on open.

import { LedgerError } from '../errors.js';
import { limits } from '../limits.js';
import type { TransferRecord } from '../domain/types.js';
import { hashId } from './id-filter.js';
import type { ShardDatabases } from './lmdb-env.js';
import { PlainRunCursor } from './plain-run.js';
import { findEachInRuns } from './scattered-find.js';
import {
  chunkEntries,
  EntryMerge,
  readRunHead,
  ScatteredRun,
  type BuiltRun,
  type RunKey,
} from './scattered-run.js';

/** What one commit writes to and removes from the scattered runs db. */
export interface ScatteredWrites {
  /** Runs the commit lists: found from now on, committed with it. */
  readonly listed: readonly ScatteredRun[];
  /** Runs to write (head and chunks). */
  readonly runs: readonly ScatteredRun[];
  /** Chunks of a merge not finished yet, written ahead of its head. */
  readonly chunks: readonly (readonly [RunKey, Buffer])[];
  /** Runs (all their entries) to remove. */
  readonly removes: readonly { readonly key: number; readonly chunks: number }[];
  /** DEFERRED_FROM as the commit leaves it: a sequence, null to remove it, undefined if unchanged. */
  readonly deferredFrom: number | null | undefined;
}

export const noScatteredWrites: ScatteredWrites = {
  listed: [],
  runs: [],
  chunks: [],
  removes: [],
  deferredFrom: undefined,
};

/** The most commits a run is kept in memory only: bounds how far back in the log an open reads
 * (at a few hundred commits a second, about a second of writes). */
const deferredCommitsMax = 512;

/** Whether a run of `count` transfers will be merged again, so is kept in memory, not written. */
function mergeable(count: number): boolean {
  return count * limits.scatteredRunFanout <= limits.scatteredRunEntriesMax;
}

/** The least a merge step copies (about 1 ms of the shard's thread here)... */
const mergeStepEntriesMin = 4_096;

/** ...and the most, for a commit that adds `added` transfers: enough that merges keep up with
 * the runs that commits add (each transfer is merged about once per level; a level takes
 * `fanout` times more per run), yet a commit of a few hundred transfers never waits for a merge
 * of tens of thousands. */
function mergeStepEntries(added: readonly BuiltRun[]): number {
  let count = 0;
  for (const built of added) count += built.count;
  return Math.max(mergeStepEntriesMin, count * limits.scatteredRunFanout);
}

/** A merge in progress: its inputs (still listed and found until it is done), its run's key and
 * the chunks that commits have written so far. */
interface OpenMerge {
  readonly key: number;
  readonly inputs: readonly ScatteredRun[];
  readonly entries: EntryMerge;
  /** Whether the merged run is written (too large to be merged again, or made from a stored
   * run): its chunks are written as they are cut. */
  readonly stored: boolean;
  written: number;
}

export class ScatteredRuns {
  /** Oldest first. */
  private runs: ScatteredRun[] = [];
  private nextKey = 1;
  /** Runs a stored merged run was made from that are still stored: removed by the next commit. */
  private leftOver: { key: number; chunks: number }[] = [];
  private merge: OpenMerge | null = null;
  /** Commits staged so far (ScatteredRun.stagedAt). */
  private commits = 0;
  /** DEFERRED_FROM as the commits staged so far leave it (recovery removed it on open). */
  private deferredFrom: number | null = null;
  private readonly read: (key: RunKey) => Buffer | undefined;
  /** find()'s hashId of the id it looks up. */
  private readonly hash = new Uint32Array(2);

  constructor(db: ShardDatabases) {
    this.read = (key) => db.scatteredRuns.getBinaryFast(key);
  }

  /** Transfers the stored runs hold, from their heads (open, before load). */
  static storedCount(db: ShardDatabases): number {
    let count = 0;
    for (const { key, value } of db.scatteredRuns.getRange({ start: [0, 0] }))
      if (key[1] === 0) count += readRunHead(value).count;
    return count;
  }

  /** Lists the stored runs and yields every id they hold, each once (open). A run that a stored
   * merged run was made from is left out (and removed by the next commit): LMDB commits a
   * merge's put and removes in one transaction, so this only guards against a write cut short
   * some other way (its ids are in the merged run). */
  *load(db: ShardDatabases): Generator<string> {
    const heads: { key: number; head: ReturnType<typeof readRunHead> }[] = [];
    const merged = new Set<number>();
    /** The last chunk stored of each run key, heads or not. */
    const lastChunks = new Map<number, number>();
    for (const { key, value } of db.scatteredRuns.getRange({ start: [0, 0] })) {
      this.nextKey = Math.max(this.nextKey, key[0] + 1);
      lastChunks.set(key[0], Math.max(lastChunks.get(key[0]) ?? 0, key[1]));
      if (key[1] !== 0) continue;
      const head = readRunHead(value);
      for (const from of head.from) merged.add(from);
      heads.push({ key: key[0], head });
    }
    this.runs = [];
    this.merge = null;
    // Chunks without a head: a merge the shard stopped before its last step (its inputs are
    // whole, and a later merge makes it again). Removed by the next commit.
    const headed = new Set(heads.map(({ key }) => key));
    this.leftOver = [...lastChunks]
      .filter(([key]) => !headed.has(key))
      .map(([key, chunks]) => ({ key, chunks }));
    for (const { key, head } of heads) {
      if (merged.has(key)) {
        this.leftOver.push({ key, chunks: head.chunks });
        continue;
      }
      const ids: string[] = [];
      const built = chunkEntries(head.count, [runCursorsOf(db, key, head.chunks)], (id) =>
        ids.push(id),
      );
      const run = new ScatteredRun(
        { key, level: head.level, from: head.from },
        { ...built, chunks: null, hashes: null },
      );
      run.stored = true;
      this.runs.push(run);
      yield* ids;
    }
  }

  /** Transfers in the merge in progress; 0 when none. */
  get mergeEntries(): number {
    return this.merge === null ? 0 : this.merge.entries.count;
  }

  /** How many runs a lookup may ask. */
  get runCount(): number {
    return this.runs.length;
  }

  /** The record of `id` in the runs, newest run first. The id is hashed once for every run's
   * filter (a shard that took many small commits has dozens of runs). */
  find(id: string): TransferRecord | undefined {
    const runs = this.runs;
    if (runs.length === 0) return undefined;
    const hash = this.hash;
    hashId(id, hash);
    for (let index = runs.length - 1; index >= 0; index -= 1) {
      const found = (runs[index] as ScatteredRun).find(id, hash, this.read);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  /** find() for many ids at once (findEachInRuns), for verify's index audit. */
  findEach(ids: readonly string[], found: Uint8Array): Generator<void, void> {
    return findEachInRuns(() => this.runs, this.read, ids, found);
  }

  /** Lists the runs a commit adds: `added`, its new runs (level 0) of transfers logged from
   * sequence `first` on, and the run of a merge whose last step it takes; they are found from
   * now on. Takes a step of the merge in progress, or of a new one if one is due. The runs of
   * `stored` are written with the commit, whatever their size: records that the log alone does
   * not give back on open (ScatteredRuns keeps a run in memory only when recovery can find its
   * transfers in the log again). */
  stage(
    db: ShardDatabases,
    added: readonly BuiltRun[],
    first: number,
    stored: readonly BuiltRun[] = [],
  ): ScatteredWrites {
    this.commits += 1;
    const listed: ScatteredRun[] = [];
    const written: ScatteredRun[] = [];
    const chunks: (readonly [RunKey, Buffer])[] = [];
    const removes = this.leftOver;
    this.leftOver = [];
    const builts = [...added, ...stored];
    builts.forEach((built, at) => {
      const run = new ScatteredRun({ key: this.nextKey, level: 0, from: [] }, built);
      this.nextKey += 1;
      run.firstSequence = first;
      run.stagedAt = this.commits;
      this.runs.push(run);
      listed.push(run);
      if (!mergeable(run.count) || at >= added.length) written.push(run);
    });
    const merge = this.merge ?? this.startMerge(db);
    if (merge !== null && !merge.entries.step(mergeStepEntries(builts))) {
      // The complete chunks cut so far are written now; the last, still open, is not.
      const cut = merge.entries.chunks;
      for (; merge.stored && merge.written < cut.length; merge.written += 1)
        chunks.push([[merge.key, merge.written + 1], cut[merge.written] as Buffer]);
    } else if (merge !== null) {
      const merged = this.finishMerge(merge);
      listed.push(merged);
      if (merge.stored) written.push(merged);
      for (const run of merge.inputs)
        if (run.stored) removes.push({ key: run.key, chunks: run.chunkCount });
    }
    const kept = this.runs.filter((run) => !run.stored && !written.includes(run));
    if (kept.some((run) => run.stagedAt < this.commits - deferredCommitsMax)) written.push(...kept);
    for (const run of written) run.stored = true;
    return { listed, runs: written, chunks, removes, deferredFrom: this.nextDeferredFrom() };
  }

  /** Lists the run a finished merge made in place of its inputs. */
  private finishMerge(merge: OpenMerge): ScatteredRun {
    this.merge = null;
    const first = merge.inputs[0] as ScatteredRun;
    const merged = new ScatteredRun(
      { key: merge.key, level: first.level + 1, from: merge.inputs.map((run) => run.key) },
      merge.entries.built(),
    );
    merged.storedChunks = merge.written;
    merged.firstSequence = Math.min(...merge.inputs.map((run) => run.firstSequence));
    merged.stagedAt = Math.min(...merge.inputs.map((run) => run.stagedAt));
    const at = this.runs.indexOf(first);
    this.runs = this.runs.filter((run) => !merge.inputs.includes(run));
    this.runs.splice(at, 0, merged);
    return merged;
  }

  /** DEFERRED_FROM for the runs listed now: the least first sequence of the runs not stored, or
   * null when every run is; undefined when that is what is stored already. */
  private nextDeferredFrom(): number | null | undefined {
    let least: number | null = null;
    for (const run of this.runs)
      if (!run.stored && (least === null || run.firstSequence < least)) least = run.firstSequence;
    if (least === this.deferredFrom) return undefined;
    this.deferredFrom = least;
    return least;
  }

  /** Opens the merge that is due, if one is. */
  private startMerge(db: ShardDatabases): OpenMerge | null {
    const inputs = this.mergeDue();
    if (inputs === null) return null;
    const count = inputs.reduce((sum, run) => sum + run.count, 0);
    const entries = new EntryMerge(
      count,
      inputs.map((run) =>
        run.kept === null
          ? runCursorsOf(db, run.key, run.chunkCount)
          : run.kept.map((chunk) => new PlainRunCursor(chunk)),
      ),
      {
        hashes: inputs.map((run) => (run.kept === null ? null : run.hashes)),
        // Only a run that a later merge takes is kept in memory with its hashes (forget).
        keepHashes: mergeable(count),
      },
    );
    this.merge = {
      key: this.nextKey,
      inputs,
      entries,
      // A stored input's transfers lie anywhere back in the log: a run made from one is stored
      // too, so that DEFERRED_FROM only ever names sequences of runs commits made.
      stored: !mergeable(entries.count) || inputs.some((run) => run.stored),
      written: 0,
    };
    this.nextKey += 1;
    return this.merge;
  }

  /** The oldest fanout committed runs of the lowest level that has that many and whose merge
   * stays within the entries bound; null when no merge is due. */
  private mergeDue(): ScatteredRun[] | null {
    const fanout = limits.scatteredRunFanout;
    const byLevel = new Map<number, ScatteredRun[]>();
    for (const run of this.runs) {
      if (run.chunks !== null) continue;
      const level = byLevel.get(run.level);
      if (level === undefined) byLevel.set(run.level, [run]);
      else level.push(run);
    }
    for (const level of [...byLevel.keys()].sort((a, b) => a - b)) {
      const runs = (byLevel.get(level) as ScatteredRun[]).slice(0, fanout);
      if (runs.length < fanout) continue;
      let count = 0;
      for (const run of runs) count += run.count;
      if (count <= limits.scatteredRunEntriesMax) return runs;
    }
    return null;
  }

  /** Marks a commit's runs committed: read from LMDB from now on, except the chunks of a run
   * that a merge will take (mergeable), kept in memory until then, stored or not. At most about
   * `scatteredRunEntriesMax` transfers per level are kept that way: merges take the oldest
   * `scatteredRunFanout` of a level. */
  forget(writes: ScatteredWrites): void {
    for (const run of [...writes.listed, ...writes.runs]) {
      run.kept = mergeable(run.count) ? (run.chunks ?? run.kept) : null;
      if (run.kept === null) run.hashes = null;
      run.chunks = null;
    }
  }
}

/** The cursors over each chunk of the stored run `key` of `chunks` chunks, each a copy (a fast
 * read's buffer is shared by every read of the thread, and a merge reads several runs at once). */
function* runCursorsOf(db: ShardDatabases, key: number, chunks: number): Generator<PlainRunCursor> {
  for (let chunk = 1; chunk <= chunks; chunk += 1) {
    const value = db.scatteredRuns.getBinary([key, chunk]);
    if (value === undefined)
      throw new LedgerError('STORAGE_CORRUPT', {
        reason: `scattered run ${key} lacks chunk ${chunk}`,
      });
    yield new PlainRunCursor(value);
  }
}
