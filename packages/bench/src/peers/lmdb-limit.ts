// Physical limit #2: append pre-encoded 64-byte transfer records to an LMDB environment with the
// same durability as the ledger. Each batch is appended as one log entry (its 8,190 records back
// to back, ~512 KiB), as a batch-first log writer does. strict: every batch waits for its commit
// and then for `flushed` (in lmdb-js a resolved put means committed, not yet on disk); relaxed:
// waits for the commit only. noSync is never used. Records are encoded before timing; up to
// `preparedBatchCountMax` batches are encoded and cycled (keys keep growing: nothing is
// overwritten). One put per 64-byte record measured ~215,000 records/s here: lmdb-js's per-put
// overhead, not the machine's limit, hence one entry per batch.

import { open } from 'lmdb';
import { join } from 'node:path';
import { measure } from '../measure.js';
import type { Peer, RunOptions, RunResult } from './peer.js';
import type { WorkloadBatch } from '../workload.js';

export const recordSizeBytes = 64;
const preparedBatchCountMax = 32;
/** Batches in flight: batch N+1 commits while batch N is being flushed (a pipelined log writer). */
const concurrency = 2;
const keyMax = 0xffff_ffff;
/** Flat after a second (the disk's fsync rate); a short window keeps `npm run bench` short. */
export const lmdbLimitDurationMsMax = 2000;
const warmupMsMax = 500;

/** 64 bytes: counter u64 | debit u32 | credit u32 | amount u128 LE | reserved (zeros). */
export function encodeRecords(batch: WorkloadBatch, firstCounter: number): Buffer {
  const buffer = Buffer.alloc(batch.ids.length * recordSizeBytes);
  for (let item = 0; item < batch.ids.length; item++) {
    const offset = item * recordSizeBytes;
    buffer.writeBigUInt64LE(BigInt(firstCounter + item), offset);
    buffer.writeUInt32LE(batch.debit[item] as number, offset + 8);
    buffer.writeUInt32LE(batch.credit[item] as number, offset + 12);
    buffer.writeUInt32LE(batch.amount[item] as number, offset + 16); // bytes 20..32: high limbs, 0
  }
  return buffer;
}

/** The part of lmdb-js's Database the limit runs use. Declared here, not imported from lmdb, so
 * that this package's declarations type-check in an application without lmdb's own (which a
 * strict check without skipLibCheck refuses under NodeNext). */
export interface LmdbLog {
  put(key: number, value: Buffer): Promise<boolean>;
  /** Resolves when everything put so far is on disk. */
  readonly flushed: Promise<boolean>;
  close(): Promise<void>;
}

export function openLmdbLog(options: { path: string }): LmdbLog {
  return open<Buffer, number>({
    path: options.path,
    encoding: 'binary', // values are our pre-encoded records, stored as is
    keyEncoding: 'uint32', // the batch sequence number; cheapest key encoding
    compression: false, // 64-byte records gain nothing
    mapSize: 2 ** 34, // 16 GiB of address space reserved up front, so no resize during the run
    noSync: false, // never: we measure durable appends
    noMetaSync: false, // meta pages are synced too
    overlappingSync: true, // commit, then flush outside the write lock (lmdb-js default on Linux)
    eventTurnBatching: true, // the puts of one batch go into one transaction
    commitDelay: 0, // commit at the next turn, no added latency
    useWritemap: false, // default; writes go through write(2), safer against stray pointers
    cache: false, // we never read back
  });
}

export const lmdbLimitPeer: Peer = {
  name: 'lmdb-limit',
  async run(options: RunOptions): Promise<RunResult> {
    const { workload } = options;
    const prepared: Buffer[] = [];
    let counter = 0;
    for (let index = 0; index < Math.min(workload.batchCount, preparedBatchCountMax); index++) {
      const batch = workload.batch(index);
      prepared.push(encodeRecords(batch, counter));
      counter += batch.ids.length;
    }
    const db = openLmdbLog({ path: join(options.dir, 'limit.mdb') });
    let key = 0;
    try {
      const measurement = await measure({
        label: 'lmdb-limit',
        warmupMs: Math.min(options.warmupMs, warmupMsMax),
        durationMs: Math.min(options.durationMs, lmdbLimitDurationMsMax),
        unitCount: prepared.length,
        cycle: true, // the records carry no ids that must stay unique
        concurrency,
        unitSize: (unit) => (prepared[unit] as Buffer).length / recordSizeBytes,
        async step(unit) {
          if (key === keyMax) throw new Error('lmdb-limit: key space used up; run shorter');
          await db.put(key++, prepared[unit] as Buffer);
          if (options.durability === 'strict') await db.flushed;
        },
        progress: options.progress,
      });
      const method = `lmdb-js ${options.durability === 'strict' ? 'commit + flushed' : 'commit'} per batch, one entry of ${recordSizeBytes}-byte records per batch, ${concurrency} batches in flight, window capped at ${lmdbLimitDurationMsMax / 1000} s`;
      return { name: 'lmdb-limit', method, checks: null, ...measurement };
    } finally {
      await db.close();
    }
  },
};
