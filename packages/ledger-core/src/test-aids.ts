// Small aids the tests of every package share (exported through `./testing`): a seeded PRNG, so
// that a random schedule can be replayed from a printed seed; a temp directory with its removal;
// and a sleep.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** mulberry32: a small seeded PRNG; each call returns the next float in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A fresh directory `shardledger-<name>-XXXXXX` under the OS temp dir; `cleanup` removes it
 * with everything in it. */
export async function tempDir(
  name: string,
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `shardledger-${name}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
