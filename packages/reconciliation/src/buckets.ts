// Buckets: both sides of a run are spread over bucket files by a hash of the match reference, so
// every line and transfer of one reference lands in one bucket, and each bucket can be matched on
// its own, in any order, on any thread, holding only that bucket in memory. Lines are JSON arrays
// in a fixed field order, with amounts as decimal strings.

import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { assert } from '@shardledger/ledger-core/internals';
import type { LedgerEntry, LedgerState, SettlementLine } from './types.js';

export type Side = 'settlement' | 'ledger';

/** Lines held in memory across all buckets before they are all written out: a few chunks of the
 * settlement file, so that lines are written before they outlive the young generation (at
 * 65,536 they were promoted, and the old generation grew to hold them). */
const bufferedLinesMax = 8_192;
/** Lines of one bucket held before that bucket is written out: lines written soon after they
 * are made die young, which keeps the garbage collector's work small. */
const bucketLinesMax = 512;

/** FNV-1a, 32 bits: a fast, stable hash of a reference (the same bucket on every run). */
export function bucketOf(reference: string, bucketCount: number): number {
  let hash = 0x811c9dc5;
  for (let at = 0; at < reference.length; at += 1) {
    hash ^= reference.charCodeAt(at);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % bucketCount;
}

export function bucketPath(dir: string, side: Side, bucket: number): string {
  return join(dir, `${side}-${String(bucket).padStart(4, '0')}.jsonl`);
}

export function encodeLine(line: SettlementLine): string {
  return JSON.stringify([
    line.line,
    line.recordId,
    line.type,
    line.reference,
    line.pspReference,
    line.currency,
    line.gross.toString(),
    line.fee.toString(),
    line.net.toString(),
    line.settledAtMs,
  ]);
}

type LineRow = [number, string, string, string, string, string, string, string, string, number];
type EntryRow = [string, string, string, string, LedgerState, number];

/** A settlement line from its row in a bucket file (as readBucket hands it out). */
export function decodeLine(row: unknown): SettlementLine {
  const [line, recordId, type, reference, pspReference, currency, gross, fee, net, settledAtMs] =
    row as LineRow;
  return {
    line,
    recordId,
    type,
    reference,
    pspReference,
    currency,
    gross: BigInt(gross),
    fee: BigInt(fee),
    net: BigInt(net),
    settledAtMs,
  };
}

export function encodeEntry(entry: LedgerEntry): string {
  return JSON.stringify([
    entry.transferId,
    entry.reference,
    entry.currency,
    entry.amount.toString(),
    entry.state,
    entry.timestampMs,
  ]);
}

/** A ledger entry from its row in a bucket file (as readBucket hands it out). */
export function decodeEntry(row: unknown): LedgerEntry {
  const [transferId, reference, currency, amount, state, timestampMs] = row as EntryRow;
  return { transferId, reference, currency, amount: BigInt(amount), state, timestampMs };
}

/** Appends encoded lines to the bucket files of one side, a few thousand lines at a time. */
export class BucketWriter {
  readonly #dir: string;
  readonly #side: Side;
  readonly #buffers: string[][];
  #handles: (FileHandle | undefined)[];
  #buffered = 0;

  constructor(options: { dir: string; side: Side; bucketCount: number }) {
    assert(options.bucketCount >= 1, 'bucketCount is at least 1');
    this.#dir = options.dir;
    this.#side = options.side;
    this.#buffers = Array.from({ length: options.bucketCount }, () => []);
    this.#handles = Array.from({ length: options.bucketCount }, () => undefined);
  }

  /** Truncates every bucket file of this side: a phase that is redone starts from nothing. */
  async create(): Promise<void> {
    for (let bucket = 0; bucket < this.#buffers.length; bucket += 1) {
      this.#handles[bucket] = await open(bucketPath(this.#dir, this.#side, bucket), 'w');
    }
  }

  /** Buffers a line; call `flushWhenFull` after a batch of adds. */
  add(reference: string, encoded: string): void {
    this.#buffers[bucketOf(reference, this.#buffers.length)]!.push(encoded);
    this.#buffered += 1;
  }

  /** Writes out each bucket holding bucketLinesMax lines or more, and every bucket once all of
   * them together hold bufferedLinesMax. */
  async flushWhenFull(): Promise<void> {
    await this.#flushBuckets(this.#buffered >= bufferedLinesMax ? 1 : bucketLinesMax);
  }

  flush(): Promise<void> {
    return this.#flushBuckets(1);
  }

  /** The buckets' writes go out together, one per file: with hundreds of buckets, each written
   * in turn cost a round trip to the thread pool per bucket. */
  async #flushBuckets(linesMin: number): Promise<void> {
    const writes: Promise<unknown>[] = [];
    for (let bucket = 0; bucket < this.#buffers.length; bucket += 1) {
      const buffer = this.#buffers[bucket]!;
      if (buffer.length < linesMin) continue;
      const handle = this.#handles[bucket];
      assert(handle !== undefined, 'create() opens the bucket files before add()');
      writes.push(handle.write(`${buffer.join('\n')}\n`));
      this.#buffered -= buffer.length;
      buffer.length = 0;
    }
    assert(this.#buffered >= 0, 'buffered lines are counted once each');
    await Promise.all(writes);
  }

  /** Flushes, fsyncs and closes: once this resolves, the side's buckets are on disk whole. */
  async close(): Promise<void> {
    await this.flush();
    for (const handle of this.#handles) {
      await handle?.sync();
      await handle?.close();
    }
    this.#handles = this.#handles.map(() => undefined);
  }
}

/** Rows parsed at a time by readBucket. */
const parseRowsMax = 1_024;

/** Every row of one bucket file of one side, decoded by `decode`. Rows are parsed a slice of
 * parseRowsMax lines at a time, one JSON.parse per slice (each line is a JSON array, and a line
 * feed occurs in JSON text only between lines), which costs a fraction of one parse per line;
 * each slice is decoded before the next is parsed, so the parsed rows die young instead of living
 * beside the decoded ones until the whole file is read. */
export async function readBucket<T>(
  dir: string,
  side: Side,
  bucket: number,
  decode: (row: unknown) => T,
): Promise<T[]> {
  const text = await readFile(bucketPath(dir, side, bucket), 'utf8');
  assert(text === '' || text.endsWith('\n'), 'a bucket file ends with a whole line');
  const decoded: T[] = [];
  for (let start = 0; start < text.length;) {
    let end = start;
    for (let rows = 0; rows < parseRowsMax && end < text.length; rows += 1)
      end = text.indexOf('\n', end) + 1;
    const rows = JSON.parse(`[${text.slice(start, end - 1).replaceAll('\n', ',')}]`) as unknown[];
    for (const row of rows) decoded.push(decode(row));
    start = end;
  }
  return decoded;
}

/** The bytes of one bucket's two files together (0 for a file not there). */
export async function bucketSizeBytes(dir: string, bucket: number): Promise<number> {
  let total = 0;
  for (const side of ['settlement', 'ledger'] as const) {
    total += await stat(bucketPath(dir, side, bucket)).then(
      (found) => found.size,
      () => 0,
    );
  }
  return total;
}
