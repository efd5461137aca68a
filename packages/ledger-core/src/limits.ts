// Every bound in the engine, in one place. Hitting a bound is a typed error or a
// typed result, never silent growth. test/limits.test.ts asserts how the constants relate.

export const limits = {
  /** Most commands in one batch call (TigerBeetle's 8,190 fits with room for internal commands). */
  batchSizeMax: 8_190,
  /** Most shards in one ledger. Partitions are spread over shards; a shard owns >= 1 partition. */
  shardCountMax: 256,
  /** Virtual partitions an account id hashes to; fixed forever once a ledger dir exists. */
  partitionCount: 4_096,
  /** Largest encoded event record (one group commit) in bytes; LMDB values can be larger, but a
   * bound keeps one commit from stalling the writer. */
  eventSizeBytesMax: 64 * 1024 * 1024,
  /** Commands waiting for a shard before new calls are refused with QUEUE_FULL. */
  queueDepthMax: 1_000_000,
  /** How long one saga step may take before the coordinator treats it as failed and retries. */
  sagaStepTimeoutMs: 30_000,
  /** Take a snapshot after this many events (default; configurable per ledger). */
  snapshotIntervalEvents: 1_000_000,
  /** Or after this many milliseconds with at least one new event. */
  snapshotIntervalMs: 60_000,
  /** Snapshot files kept on disk (older ones are deleted once a newer one is durable). */
  snapshotsKept: 3,
  /** Bytes in an account or transfer id, UTF-8. */
  idSizeBytesMax: 128,
  /** Decimal places of a currency's minor unit ('USDC/6'): 18, the most any asset in wide use
   * has (ether's wei, ERC-20 tokens); 2^128-1 minor units still hold 20 whole digits at it. */
  currencyScaleMax: 18,
  /** Metadata: keys per object, bytes per key, bytes per value. */
  metadataKeysMax: 16,
  metadataKeySizeBytesMax: 64,
  metadataValueSizeBytesMax: 256,
  /** Transfers in one atomic group. */
  groupSizeMax: 1_024,
  /** Pending (two-phase) transfers open at once in one shard; beyond it new holds are refused. */
  pendingOpenMax: 10_000_000,
  /** Runs of random-id transfers (scattered-runs.ts) of one level merged into one of the next. */
  scatteredRunFanout: 8,
  /** The most transfers a merge of scattered runs makes one run of: bounds how often a transfer
   * is rewritten (once, for commits of 8,190). A merge is spread over commits, a step each
   * (scattered-runs.ts), so this does not bound how long one commit merges. */
  scatteredRunEntriesMax: 65_536,
  /** Page size bound for history and list queries. */
  pageSizeMax: 10_000,
  /** Pending transfer timeout bound: 10 years in ms. */
  timeoutMsMax: 10 * 365 * 24 * 3_600_000,
  /** The page sizes a shard's LMDB file may name in its meta pages (env-check.ts); LMDB's page
   * size is the OS page size, a power of two. A file outside them is refused as damaged. */
  lmdbPageSizeBytesMin: 512,
  lmdbPageSizeBytesMax: 65_536,
} as const;

/** Largest amount or balance counter: unsigned 128-bit, as in TigerBeetle. */
export const AMOUNT_MAX: bigint = (1n << 128n) - 1n;

/** Largest bigint that a float64 holds exactly (2^53 - 1). Amounts, counters and timestamp offsets
 * up to it are stored and sent as numbers, which cost far less to pack and add than bigints;
 * above it they stay bigints. */
export const SAFE_BIG: bigint = BigInt(Number.MAX_SAFE_INTEGER);
