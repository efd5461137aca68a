// The read model's public API: `ReadModel.open({ ledger | dir, path })` to project and query,
// `openReadModelFile({ path })` to query a file that another process projects into.
export { ReadModel, readModelFileName } from './read-model.js';
export type { ReadModelOptions } from './read-model-options.js';
export type { LogPosition, WaitTarget } from './wait-target.js';
export type { ShardLag } from './shard-lag.js';
export { openReadModelFile, type ReadModelFile, type ReadModelQueries } from './read-model-file.js';
export type { Watermark } from './projector.js';
export { dumpProjection, projectionTables, readModelSchemaVersion } from './read-model-db.js';
export type {
  CurrencyTotals,
  Entry,
  PostedBalance,
  ReadModelAccountPage,
  Statement,
  StatementOptions,
  TransferPage,
} from './queries.js';
