// Matching one bucket from its files: the task a piscina worker runs (the default export), and
// the same function the main thread calls when it matches without a pool. It reads the bucket's
// two files, matches them and writes the result file whole, so a bucket is either matched on disk
// or not at all.

import { encodeJson, writeFileAtomic } from './codec.js';
import { decodeEntry, decodeLine, readBucket } from './buckets.js';
import { matchBucket } from './match.js';
import type { MatchOptions } from './match-options.js';

export interface BucketTask {
  readonly dir: string;
  readonly bucket: number;
  readonly resultPath: string;
  readonly options: MatchOptions;
}

export interface BucketDone {
  readonly bucket: number;
  readonly breaks: number;
}

export async function matchBucketFiles(task: BucketTask): Promise<BucketDone> {
  const lines = await readBucket(task.dir, 'settlement', task.bucket, decodeLine);
  const entries = await readBucket(task.dir, 'ledger', task.bucket, decodeEntry);
  const result = matchBucket(lines, entries, task.options);
  await writeFileAtomic(task.resultPath, encodeJson(result));
  return { bucket: task.bucket, breaks: result.breaks.length };
}

export default matchBucketFiles;
