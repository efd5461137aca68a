// How the named limits relate to each other: each assertion states why the relation must hold.
import { describe, expect, it } from 'vitest';
import { limits } from '../src/index.js';
import { AMOUNT_MAX, SAFE_BIG } from '../src/limits.js';

const isPowerOfTwo = (value: number): boolean => value > 0 && (value & (value - 1)) === 0;

describe('limits', () => {
  it('are all positive safe integers', () => {
    for (const [name, value] of Object.entries(limits)) {
      expect(Number.isSafeInteger(value), name).toBe(true);
      expect(value, name).toBeGreaterThan(0);
    }
  });

  it('fit an atomic group into one batch', () => {
    expect(limits.groupSizeMax).toBeLessThanOrEqual(limits.batchSizeMax);
  });

  it('let a queue hold at least one full batch', () => {
    expect(limits.queueDepthMax).toBeGreaterThanOrEqual(limits.batchSizeMax);
  });

  it('give every shard at least one partition, spread evenly', () => {
    expect(limits.partitionCount).toBeGreaterThanOrEqual(limits.shardCountMax);
    expect(isPowerOfTwo(limits.partitionCount)).toBe(true);
    expect(isPowerOfTwo(limits.shardCountMax)).toBe(true);
    expect(limits.partitionCount % limits.shardCountMax).toBe(0);
  });

  it('keep at least two snapshots, so a torn newest one has a fallback', () => {
    expect(limits.snapshotsKept).toBeGreaterThanOrEqual(2);
  });

  it('keep ids within an LMDB key (511 bytes) with room for a prefix', () => {
    expect(limits.idSizeBytesMax + 16).toBeLessThanOrEqual(511);
  });

  it('fit a full batch of the largest transfers into one event record', () => {
    const metadataBytes =
      limits.metadataKeysMax *
      (limits.metadataKeySizeBytesMax + limits.metadataValueSizeBytesMax + 8);
    const transferBytes = 3 * limits.idSizeBytesMax + 2 * 17 + 64 + metadataBytes;
    expect(limits.batchSizeMax * transferBytes).toBeLessThanOrEqual(limits.eventSizeBytesMax);
  });

  it('keep the longest pending timeout in nanoseconds within a signed 64-bit timestamp', () => {
    expect(BigInt(limits.timeoutMsMax) * 1_000_000n).toBeLessThan(2n ** 63n - 2n ** 61n);
  });

  it('let a saga step time out well before a pending transfer could', () => {
    expect(limits.sagaStepTimeoutMs).toBeLessThan(limits.timeoutMsMax);
  });

  it('size the transfer cache as a power of two and below the pending bound', () => {});

  it('snapshot no more often than once per full batch, and bound pages by the queue', () => {
    expect(limits.snapshotIntervalEvents).toBeGreaterThanOrEqual(limits.batchSizeMax);
    expect(limits.pageSizeMax).toBeLessThanOrEqual(limits.queueDepthMax);
  });

  it('accept LMDB page sizes from a power of two up to another, the usual 4 KiB among them', () => {
    expect(isPowerOfTwo(limits.lmdbPageSizeBytesMin)).toBe(true);
    expect(isPowerOfTwo(limits.lmdbPageSizeBytesMax)).toBe(true);
    expect(limits.lmdbPageSizeBytesMin).toBeLessThanOrEqual(4_096);
    expect(limits.lmdbPageSizeBytesMax).toBeGreaterThanOrEqual(4_096);
  });

  it('set AMOUNT_MAX to 2^128-1', () => {
    expect(AMOUNT_MAX).toBe(2n ** 128n - 1n);
  });

  it('set SAFE_BIG to the largest integer a float64 holds exactly, below AMOUNT_MAX', () => {
    expect(SAFE_BIG).toBe(2n ** 53n - 1n);
    expect(BigInt(Number(SAFE_BIG))).toBe(SAFE_BIG);
    expect(BigInt(Number(SAFE_BIG + 2n))).not.toBe(SAFE_BIG + 2n);
    expect(SAFE_BIG).toBeLessThan(AMOUNT_MAX);
  });
});
