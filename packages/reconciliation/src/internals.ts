// For tests, the bench and tools: the parts a run is made of. It may change with any release.
export { readSettlement, type ReadItem } from './settlement-reader.js';
export { mapRecord, parseDate, parseMoney, type RawRecord } from './line-mapper.js';
export { matchBucket, type BucketResult } from './match.js';
export { readLedger, type LedgerItem, type LedgerSourceOptions } from './ledger-source.js';
export {
  BucketWriter,
  bucketOf,
  decodeEntry,
  decodeLine,
  encodeEntry,
  encodeLine,
  readBucket,
} from './buckets.js';
export { matchBucketFiles, type BucketTask } from './match-worker.js';
export { encodeJson, decodeJson, reportJson } from './codec.js';
export { adjustmentTransferId, readResolutions, type Resolution } from './resolutions.js';
export { RunStore, runIdOf, fileDigest } from './run-store.js';
export type { LedgerEntry, SettlementLine } from './types.js';
