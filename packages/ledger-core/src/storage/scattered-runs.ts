// The scattered runs of a shard (scattered-run.ts) as lookups and merges see them: every run
// listed here is stored, or written by a commit in flight and kept in memory until it is
// committed (LMDB reads cannot see it before). A commit writes at most one new run and a step of
// at most one merge: the oldest `scatteredRunFanout` committed runs of the lowest level that has
// that many become one run of the next level, unless it would hold more than
// `scatteredRunEntriesMax` transfers (runs that large stay as they are). A merge runs on the
// shard's thread, so it is made a step per commit (mergeStepEntries), its chunks written as they
// are cut, and the merged run listed, its inputs removed, by the commit that takes its last step:
// no commit waits for a whole large merge. So a shard keeps about (fanout - 1) runs per level,
// plus one per entriesMax transfers, and each transfer is rewritten about
// log_fanout(entriesMax / commit size) times, in chunks written in key order.

import { LedgerError } from '../errors.js';
import { limits } from '../limits.js';
import type { TransferRecord } from '../domain/types.js';
import type { ShardDatabases } from './lmdb-env.js';
import { PlainRunCursor } from './plain-run.js';
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
  readonly runs: readonly ScatteredRun[];
  /** Chunks of a merge not finished yet, written ahead of its head. */
  readonly chunks: readonly (readonly [RunKey, Buffer])[];
  /** Runs (all their entries) to remove. */
  readonly removes: readonly { readonly key: number; readonly chunks: number }[];
}

export const noScatteredWrites: ScatteredWrites = { runs: [], chunks: [], removes: [] };

/** The least a merge step copies (about 1 ms of the shard's thread here)... */
const mergeStepEntriesMin = 4_096;

/** ...and the most, for a commit that adds `added` transfers: enough that merges keep up with
 * the runs that commits add (each transfer is merged about once per level; a level takes
 * `fanout` times more per run), yet a commit of a few hundred transfers never waits for a merge
 * of tens of thousands. */
function mergeStepEntries(added: number): number {
  return Math.max(mergeStepEntriesMin, added * limits.scatteredRunFanout);
}

/** A merge in progress: its inputs (still listed and found until it is done), its run's key and
 * the chunks that commits have written so far. */
interface OpenMerge {
  readonly key: number;
  readonly inputs: readonly ScatteredRun[];
  readonly entries: EntryMerge;
  written: number;
}

export class ScatteredRuns {
  /** Oldest first. */
  private runs: ScatteredRun[] = [];
  private nextKey = 1;
  /** Runs a stored merged run was made from that are still stored: removed by the next commit. */
  private leftOver: { key: number; chunks: number }[] = [];
  private merge: OpenMerge | null = null;
  private readonly read: (key: RunKey) => Buffer | undefined;

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
      this.runs.push(
        new ScatteredRun({ key, level: head.level, from: head.from }, { ...built, chunks: null }),
      );
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

  /** The record of `id` in the runs, newest run first. */
  find(id: string): TransferRecord | undefined {
    const runs = this.runs;
    for (let index = runs.length - 1; index >= 0; index -= 1) {
      const found = (runs[index] as ScatteredRun).find(id, this.read);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  /** Lists the runs a commit writes: `added`, its new runs (level 0), and the run of a merge
   * whose last step it takes; they are found from now on. Takes a step of the merge in progress,
   * or of a new one if one is due. */
  stage(db: ShardDatabases, added: readonly BuiltRun[]): ScatteredWrites {
    const runs: ScatteredRun[] = [];
    const removes = this.leftOver;
    this.leftOver = [];
    let addedCount = 0;
    for (const built of added) {
      const run = new ScatteredRun({ key: this.nextKey, level: 0, from: [] }, built);
      this.nextKey += 1;
      this.runs.push(run);
      runs.push(run);
      addedCount += built.count;
    }
    const merge = this.merge ?? this.startMerge(db);
    if (merge === null) return { runs, chunks: [], removes };
    const done = merge.entries.step(mergeStepEntries(addedCount));
    if (!done) {
      // The complete chunks cut so far are written now; the last, still open, is not.
      const cut = merge.entries.chunks;
      const chunks: (readonly [RunKey, Buffer])[] = [];
      for (; merge.written < cut.length; merge.written += 1)
        chunks.push([[merge.key, merge.written + 1], cut[merge.written] as Buffer]);
      return { runs, chunks, removes };
    }
    this.merge = null;
    const first = merge.inputs[0] as ScatteredRun;
    const merged = new ScatteredRun(
      { key: merge.key, level: first.level + 1, from: merge.inputs.map((run) => run.key) },
      merge.entries.built(),
    );
    merged.storedChunks = merge.written;
    const at = this.runs.indexOf(first);
    this.runs = this.runs.filter((run) => !merge.inputs.includes(run));
    this.runs.splice(at, 0, merged);
    runs.push(merged);
    for (const run of merge.inputs) removes.push({ key: run.key, chunks: run.chunkCount });
    return { runs, chunks: [], removes };
  }

  /** Opens the merge that is due, if one is. */
  private startMerge(db: ShardDatabases): OpenMerge | null {
    const inputs = this.mergeDue();
    if (inputs === null) return null;
    const entries = new EntryMerge(
      inputs.reduce((count, run) => count + run.count, 0),
      inputs.map((run) =>
        run.kept === null
          ? runCursorsOf(db, run.key, run.chunkCount)
          : run.kept.map((chunk) => new PlainRunCursor(chunk)),
      ),
    );
    this.merge = { key: this.nextKey, inputs, entries, written: 0 };
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
   * that a merge will read (level 0, small enough to be merged), kept in memory until then so
   * that the merge reads no LMDB value. At most about `scatteredRunEntriesMax` transfers are kept
   * that way: merges take the oldest `scatteredRunFanout` of them. */
  forget(writes: ScatteredWrites): void {
    for (const run of writes.runs) {
      if (run.level === 0 && run.count * limits.scatteredRunFanout <= limits.scatteredRunEntriesMax)
        run.kept = run.chunks;
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
