// Many ids looked up in the scattered runs at once (ScatteredRuns.findEach), for verify's audit
// of the id index: a per-id find() reads one chunk of about 12 KB for every id, which made
// verify() on random ids several times slower than on ordered ones. A window of ids is instead
// grouped by the chunk that may hold each, so each chunk is read once for all of them, and the
// runs that hold most of the window are asked first, so the ids found there are not asked of the
// others.

import { hashId } from './id-filter.js';
import { findInPlainRun } from './plain-run.js';
import type { RunKey, ScatteredRun } from './scattered-run.js';

/** Ids of a window whose filters findEachInRuns asks of every run, to order the runs. */
const runOrderSample = 256;

/** Sets `found[at]` to 1 for each `ids[at]` that a run holds (its record decoded, as find()
 * decodes it); ids already marked are skipped, and none is unmarked. Yields between runs: writes
 * go on meanwhile, and a run that a merge took in between (no longer in `runs()`) is skipped,
 * since its chunks may be gone: its ids are in the merged run, which a later find() asks. So an
 * id left unmarked is not proof of a loss; the caller asks find() about it. */
export function* findEachInRuns(
  runs: () => readonly ScatteredRun[],
  read: (key: RunKey) => Buffer | undefined,
  ids: readonly string[],
  found: Uint8Array,
): Generator<void, void> {
  const hashes = new Uint32Array(ids.length * 2);
  const hash = new Uint32Array(2);
  const left = new Int32Array(ids.length);
  let leftCount = 0;
  for (let at = 0; at < ids.length; at += 1) {
    if (found[at] === 1) continue;
    hashId(ids[at] as string, hash);
    hashes[2 * at] = hash[0] as number;
    hashes[2 * at + 1] = hash[1] as number;
    left[leftCount] = at;
    leftCount += 1;
  }
  const chunkOf = new Int32Array(ids.length);
  for (const run of runsByShare(runs(), ids, left.subarray(0, leftCount), hashes)) {
    if (leftCount === 0) return;
    if (!runs().includes(run)) continue;
    // Each id's chunk in this run (-1: not there), then the ids counted and grouped by chunk.
    const chunkCount = run.chunkCount;
    const starts = new Int32Array(chunkCount + 1);
    for (let slot = 0; slot < leftCount; slot += 1) {
      const at = left[slot] as number;
      hash[0] = hashes[2 * at] as number;
      hash[1] = hashes[2 * at + 1] as number;
      const chunk = run.chunkFor(ids[at] as string, hash);
      chunkOf[at] = chunk;
      if (chunk !== -1) starts[chunk + 1] = (starts[chunk + 1] as number) + 1;
    }
    for (let chunk = 0; chunk < chunkCount; chunk += 1)
      starts[chunk + 1] = (starts[chunk + 1] as number) + (starts[chunk] as number);
    const grouped = new Int32Array(starts[chunkCount] as number);
    const next = starts.slice(0, chunkCount);
    for (let slot = 0; slot < leftCount; slot += 1) {
      const at = left[slot] as number;
      const chunk = chunkOf[at] as number;
      if (chunk === -1) continue;
      grouped[next[chunk] as number] = at;
      next[chunk] = (next[chunk] as number) + 1;
    }
    for (let chunk = 0; chunk < chunkCount; chunk += 1) {
      const from = starts[chunk] as number;
      const to = starts[chunk + 1] as number;
      if (from === to) continue;
      // Searched before the next read: `read` may reuse its buffer.
      const value = run.chunk(chunk, read);
      for (let slot = from; slot < to; slot += 1) {
        const at = grouped[slot] as number;
        if (findInPlainRun(value, ids[at] as string) !== undefined) found[at] = 1;
      }
    }
    // The ids found drop out: the next runs are asked about the rest only.
    let kept = 0;
    for (let slot = 0; slot < leftCount; slot += 1) {
      const at = left[slot] as number;
      if (found[at] === 0) left[kept++] = at;
    }
    leftCount = kept;
    yield;
  }
}

/** `runs`, those whose filters pass the most of a sample of the ids first. The ids of a window of
 * the log were written by a stretch of commits, whose transfers few runs hold (a merge takes
 * runs of consecutive commits), so most ids are found, and drop out, in the first runs asked. */
function runsByShare(
  runs: readonly ScatteredRun[],
  ids: readonly string[],
  left: Int32Array,
  hashes: Uint32Array,
): ScatteredRun[] {
  const hash = new Uint32Array(2);
  const step = Math.max(1, Math.floor(left.length / runOrderSample));
  const scored = runs.map((run) => {
    let passed = 0;
    for (let slot = 0; slot < left.length; slot += step) {
      const at = left[slot] as number;
      hash[0] = hashes[2 * at] as number;
      hash[1] = hashes[2 * at + 1] as number;
      if (run.chunkFor(ids[at] as string, hash) !== -1) passed += 1;
    }
    return { run, passed };
  });
  return scored.sort((a, b) => b.passed - a.passed).map(({ run }) => run);
}
