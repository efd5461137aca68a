// Runs of scattered transfers: the id index's part for random ids (UUIDv4 and any other id that
// is not above every id before it). Writing one B-tree entry per random id copies a page per
// insert once the index outgrows memory, and costs an LMDB put each; instead, each group commit
// writes its random-id transfers as one run sorted by id, and runs are merged, several of a level
// into one of the next (scattered-runs.ts), so that a lookup asks a handful of runs.
//
// A run is stored in ShardDatabases.scatteredRuns as a head entry [run key, 0] (u8 version, u8
// level, u8 count of runs it was merged from, u32 transfers, u32 chunks, then the keys of the runs
// it was merged from as f64: recovery drops any that a cut-short write left behind) and chunks
// [run key, 1..n], each a plain run's value (plain-run.ts) of up to scatteredChunkEntries
// transfers, ids ascending across chunks. In memory a run keeps the first id of each chunk and a
// filter of its ids (1 byte per id), so a lookup reads at most one chunk of the runs that may
// hold the id (about 3% of the others by the filter's error).

import { assert } from '../assert.js';
import { LedgerError } from '../errors.js';
import type { TransferRecord } from '../domain/types.js';
import { FixedFilterBuilder, fixedFilterMayHave, hashId, hashIdBytes } from './id-filter.js';
import {
  compareIdBytes,
  findInPlainRun,
  plainRunBytes,
  PlainRunBuilder,
  PlainRunCursor,
  writeRecordRun,
} from './plain-run.js';
import { ValueArena } from './value-arena.js';
import { bufferView, indexAtOrBelow, sortedOrder } from './sorted-ids.js';

/** Transfers per chunk: a lookup copies one chunk (about 12 KB) out of LMDB. */
export const scatteredChunkEntries = 128;
/** Bits per id of a run's filter. */
const RUN_FILTER_BITS = 8;
const HEAD_VERSION = 1;
const HEAD_BYTES = 11;

export type RunKey = [number, number];

/** A run's content as built: its count and filter, the first id of each chunk, and the chunks
 * (null once committed: read from LMDB). */
export interface BuiltRun {
  readonly count: number;
  /** A filter of its ids (runFilter). */
  readonly filter: Uint32Array;
  readonly fences: readonly string[];
  readonly chunks: readonly Buffer[] | null;
  /** Each id's hashId in id order, two words each (what its filter took), or null: a merge that
   * takes the run kept in memory adds them to its own filter instead of hashing the ids again. */
  readonly hashes: Uint32Array | null;
}

/** The filter builder of a run of `count` ids. */
export function runFilter(count: number): FixedFilterBuilder {
  return new FixedFilterBuilder(count, RUN_FILTER_BITS);
}

/** A level-0 run of `records` (distinct ids, in any order): sorted by id, cut into chunks. */
export function recordRun(records: readonly TransferRecord[]): BuiltRun {
  const order = sortedOrder(records.map((record) => record.id));
  const sorted = Array.from(order, (at) => records[at] as TransferRecord);
  const count = sorted.length;
  const filter = runFilter(count);
  const hashes = new Uint32Array(2 * count);
  const hash = new Uint32Array(2);
  for (let at = 0; at < count; at += 1) {
    const id = (sorted[at] as TransferRecord).id;
    assert(at === 0 || (sorted[at - 1] as TransferRecord).id !== id, 'a run holds an id once');
    hashId(id, hash);
    hashes.set(hash, 2 * at);
    filter.addHash(hash[0] as number, hash[1] as number);
  }
  const chunkCount = Math.ceil(count / scatteredChunkEntries);
  const arena = new ValueArena(plainRunBytes(count) + chunkCount * plainRunBytes(0));
  const fences: string[] = [];
  const chunks: Buffer[] = [];
  for (let from = 0; from < count; from += scatteredChunkEntries) {
    fences.push((sorted[from] as TransferRecord).id);
    chunks.push(writeRecordRun(arena, sorted, from, Math.min(count, from + scatteredChunkEntries)));
  }
  return { count, filter: filter.words, fences, chunks, hashes };
}

/** The values of a run as written: the head and its chunks, by their keys. */
export interface RunWrite {
  readonly entries: readonly (readonly [RunKey, Buffer])[];
}

export class ScatteredRun {
  readonly key: number;
  readonly level: number;
  readonly from: readonly number[];
  readonly count: number;
  /** The first id of each chunk. */
  private readonly fences: readonly string[];
  private readonly filter: Uint32Array;
  /** The chunk values while the commit that writes them is in flight; null once committed. */
  chunks: readonly Buffer[] | null;
  /** The chunk values of a committed run kept in memory until a merge takes it (a run small
   * enough to be merged: ScatteredRuns.forget), or null: read from LMDB. */
  kept: readonly Buffer[] | null = null;
  /** Its ids' hashes (BuiltRun.hashes) while its chunks are in memory, else null. */
  hashes: Uint32Array | null;
  /** Leading chunks that earlier commits already wrote (a merge spread over several commits):
   * write() writes the head and the chunks after them. */
  storedChunks = 0;
  /** Whether a commit wrote (or is writing) the run; a run that a later merge will take is kept
   * in memory only, and its transfers are found again in the log on open (scattered-runs.ts). */
  stored = false;
  /** The least log sequence of its transfers (a run a commit made: that commit's first). */
  firstSequence = 0;
  /** The count of commits (ScatteredRuns.stage calls) when its oldest transfer was staged. */
  stagedAt = 0;

  constructor(head: { key: number; level: number; from: readonly number[] }, built: BuiltRun) {
    this.key = head.key;
    this.level = head.level;
    this.from = head.from;
    this.count = built.count;
    this.fences = built.fences;
    this.filter = built.filter;
    this.chunks = built.chunks;
    this.hashes = built.hashes;
  }

  get chunkCount(): number {
    return this.fences.length;
  }

  /** The record of `id` (whose hashId is `hash`) if the run holds it; `read` reads a committed
   * chunk (copied or not). */
  find(
    id: string,
    hash: Uint32Array,
    read: (key: RunKey) => Buffer | undefined,
  ): TransferRecord | undefined {
    const chunk = this.chunkFor(id, hash);
    return chunk === -1 ? undefined : findInPlainRun(this.chunk(chunk, read), id);
  }

  /** The chunk that may hold `id` (whose hashId is `hash`): -1 when the filter rules it out or
   * every chunk starts above it. */
  chunkFor(id: string, hash: Uint32Array): number {
    if (!fixedFilterMayHave(this.filter, hash)) return -1;
    const fences = this.fences;
    return indexAtOrBelow(fences.length, (index) => fences[index] as string, id);
  }

  /** Chunk `chunk`'s value: in memory, or read by `read` (which may reuse its buffer on the next
   * read: search it before reading another). */
  chunk(chunk: number, read: (key: RunKey) => Buffer | undefined): Buffer {
    const value = this.chunks?.[chunk] ?? this.kept?.[chunk] ?? read([this.key, chunk + 1]);
    assert(value !== undefined, 'a listed scattered run chunk is stored');
    return value;
  }

  /** The head and chunk entries to write. */
  write(): RunWrite {
    const chunks = this.chunks ?? this.kept;
    assert(chunks !== null, 'a run is written while its chunks are in memory');
    const head = Buffer.alloc(HEAD_BYTES + this.from.length * 8);
    head.writeUInt8(HEAD_VERSION, 0);
    head.writeUInt8(this.level, 1);
    head.writeUInt8(this.from.length, 2);
    head.writeUInt32LE(this.count, 3);
    head.writeUInt32LE(chunks.length, 7);
    this.from.forEach((key, index) => head.writeDoubleLE(key, HEAD_BYTES + index * 8));
    const entries: (readonly [RunKey, Buffer])[] = [[[this.key, 0], head]];
    for (let index = this.storedChunks; index < chunks.length; index += 1)
      entries.push([[this.key, index + 1], chunks[index] as Buffer]);
    return { entries };
  }
}

/** A run's head as stored. */
export function readRunHead(value: Uint8Array): {
  level: number;
  from: number[];
  count: number;
  chunks: number;
} {
  const view = bufferView(value);
  if (view.length < HEAD_BYTES || view.readUInt8(0) !== HEAD_VERSION)
    throw new LedgerError('STORAGE_CORRUPT', { reason: 'unknown scattered-run version' });
  const from = view.readUInt8(2);
  if (view.length !== HEAD_BYTES + from * 8)
    throw new LedgerError('STORAGE_CORRUPT', { reason: 'scattered-run head of a wrong size' });
  return {
    level: view.readUInt8(1),
    from: Array.from({ length: from }, (_, index) => view.readDoubleLE(HEAD_BYTES + index * 8)),
    count: view.readUInt32LE(3),
    chunks: view.readUInt32LE(7),
  };
}

/** Cuts entries, copied in id order from `cursors` (each ascending, all disjoint; `count` in
 * all), into chunks: a k-way merge, or the reading of one run. `onId` sees every id in order. */
export function chunkEntries(
  count: number,
  cursors: Iterable<PlainRunCursor>[],
  onId?: (id: string) => void,
): BuiltRun {
  const merge = new EntryMerge(count, cursors, { onId });
  assert(merge.step(Number.POSITIVE_INFINITY), 'an unbounded step takes every entry');
  return merge.built();
}

/** chunkEntries made a step at a time: each step copies up to a given number of entries, so that
 * a large merge is spread over several commits instead of stalling one (ScatteredRuns.stage).
 * Ids are compared and hashed as the bytes the runs hold (compareIdBytes), not decoded. */
export class EntryMerge {
  readonly count: number;
  readonly #sources: Iterator<PlainRunCursor>[];
  readonly #heads: (PlainRunCursor | null)[];
  /** The tournament: tree[0] the source whose head is least, tree[1 ..] each match's loser. */
  readonly #tree: Int32Array;
  /** Each source's hashes (BuiltRun.hashes) or null, and how many entries it gave so far. */
  readonly #sourceHashes: readonly (Uint32Array | null)[];
  readonly #takenFrom: Int32Array;
  readonly #filter: FixedFilterBuilder;
  /** The merged run's hashes, in its id order, when it keeps them. */
  readonly #hashes: Uint32Array | null;
  readonly #hash = new Uint32Array(2);
  readonly #fences: string[] = [];
  readonly #chunks: Buffer[] = [];
  readonly #builder = new PlainRunBuilder();
  readonly #onId: ((id: string) => void) | undefined;
  /** The last id taken, as bytes of a source's value (which stays alive with its cursor). */
  #lastView: Buffer | null = null;
  #lastStart = 0;
  #lastEnd = 0;
  #taken = 0;
  #done = false;

  /** `hashes`: per source, its ids' hashes in order (BuiltRun.hashes) or null (absent past the
   * last given): the ids of a source without them are hashed from their bytes. `keepHashes`:
   * whether the merged run keeps its own (it will be kept in memory for a later merge). */
  constructor(
    count: number,
    cursors: Iterable<PlainRunCursor>[],
    options: {
      readonly hashes?: readonly (Uint32Array | null)[];
      readonly keepHashes?: boolean;
      readonly onId?: ((id: string) => void) | undefined;
    } = {},
  ) {
    this.count = count;
    this.#sourceHashes = options.hashes ?? [];
    this.#takenFrom = new Int32Array(cursors.length);
    this.#hashes = options.keepHashes === true ? new Uint32Array(2 * count) : null;
    this.#sources = cursors.map((source) => source[Symbol.iterator]());
    this.#heads = this.#sources.map((source) => nextCursor(source));
    // A tournament over a power-of-two count of leaves (sources past the last have no head):
    // every internal node starts with the loser of its subtree's matches.
    let leaves = 1;
    while (leaves < this.#heads.length) leaves *= 2;
    this.#tree = new Int32Array(leaves);
    const winners = new Int32Array(2 * leaves);
    for (let leaf = 0; leaf < leaves; leaf += 1) winners[leaves + leaf] = leaf;
    for (let node = leaves - 1; node > 0; node -= 1) {
      const left = winners[2 * node] as number;
      const right = winners[2 * node + 1] as number;
      const leftFirst = !this.#before(right, left);
      winners[node] = leftFirst ? left : right;
      this.#tree[node] = leftFirst ? right : left;
    }
    this.#tree[0] = winners[1] as number;
    this.#filter = runFilter(count);
    this.#onId = options.onId;
  }

  /** The chunks made so far (complete ones only until the last step). */
  get chunks(): readonly Buffer[] {
    return this.#chunks;
  }

  /** Copies up to `entries` more entries; returns whether every entry is taken. */
  step(entries: number): boolean {
    assert(!this.#done, 'a finished merge takes no step');
    const heads = this.#heads;
    const builder = this.#builder;
    for (let copied = 0; copied < entries; copied += 1) {
      const pick = this.#tree[0] as number;
      const least = heads[pick] ?? null;
      if (least === null) return this.#finish();
      const { view, idStart, idEnd } = least;
      assert(
        this.#lastView === null ||
          compareIdBytes(view, idStart, idEnd, this.#lastView, this.#lastStart, this.#lastEnd) > 0,
        'merged ids strictly ascend',
      );
      this.#lastView = view;
      this.#lastStart = idStart;
      this.#lastEnd = idEnd;
      const hash = this.#hash;
      const given = this.#sourceHashes[pick] ?? null;
      if (given !== null) {
        const at = 2 * (this.#takenFrom[pick] as number);
        hash[0] = given[at] as number;
        hash[1] = given[at + 1] as number;
        // One id of each chunk's worth is hashed again: a source's hashes out of step with its
        // entries would leave ids out of the merged run's filter.
        if (this.#taken % scatteredChunkEntries === 0) this.#checkHash(view, idStart, idEnd);
      } else hashIdBytes(view, idStart, idEnd, hash);
      this.#takenFrom[pick] = (this.#takenFrom[pick] as number) + 1;
      this.#filter.addHash(hash[0] as number, hash[1] as number);
      this.#hashes?.set(hash, 2 * this.#taken);
      this.#taken += 1;
      if (this.#onId !== undefined) this.#onId(least.id as string);
      least.copyTo(builder);
      if (least.done) heads[pick] = nextCursor(this.#sources[pick] as Iterator<PlainRunCursor>);
      this.#replay(pick);
      if (builder.count === scatteredChunkEntries) this.#cut();
    }
    return heads[this.#tree[0] as number] === null && this.#finish();
  }

  #checkHash(view: Buffer, start: number, end: number): void {
    const again = new Uint32Array(2);
    hashIdBytes(view, start, end, again);
    assert(
      again[0] === this.#hash[0] && again[1] === this.#hash[1],
      "a merged run's given hashes are its ids'",
    );
  }

  /** Whether source a's head comes before source b's: a source without one (ended, or a leaf
   * past the sources) comes after every other. */
  #before(a: number, b: number): boolean {
    const x = this.#heads[a] ?? null;
    if (x === null) return false;
    const y = this.#heads[b] ?? null;
    if (y === null) return true;
    return compareIdBytes(x.view, x.idStart, x.idEnd, y.view, y.idStart, y.idEnd) < 0;
  }

  /** Plays source `source`'s new head up from its leaf of the tournament: each node keeps the
   * loser of its match, and the winner goes on, to tree[0] at the root. log2(sources) id
   * comparisons per entry, where finding the least head by a scan made one per source. */
  #replay(source: number): void {
    const tree = this.#tree;
    let winner = source;
    for (let node = (source + tree.length) >>> 1; node > 0; node >>>= 1) {
      const other = tree[node] as number;
      if (this.#before(other, winner)) {
        tree[node] = winner;
        winner = other;
      }
    }
    tree[0] = winner;
  }

  #cut(): void {
    this.#fences.push(this.#builder.firstId);
    this.#chunks.push(this.#builder.build());
  }
  #finish(): true {
    if (this.#builder.count > 0) this.#cut();
    assert(this.#taken === this.count, 'a merge takes every entry of its runs');
    this.#done = true;
    return true;
  }

  /** The run made, once every entry is taken. */
  built(): BuiltRun {
    assert(this.#done, 'a merge is built once finished');
    return {
      count: this.count,
      filter: this.#filter.words,
      fences: this.#fences,
      chunks: this.#chunks,
      hashes: this.#hashes,
    };
  }
}

/** The next cursor of `source` that has an entry, or null. */
function nextCursor(source: Iterator<PlainRunCursor>): PlainRunCursor | null {
  for (let next = source.next(); next.done !== true; next = source.next())
    if (!next.value.done) return next.value;
  return null;
}
