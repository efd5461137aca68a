// The read model's public API: `ReadModel.open({ ledger | dir, path })` to project and query,
// `openReadModelFile({ path })` to query a file that another process projects into.
export {
  ReadModel,
  readModelFileName,
  type ReadModelOptions,
  type LogPosition,
  type WaitTarget,
  type ShardLag,
} from './read-model.js';
export { openReadModelFile, type ReadModelFile } from './read-model-file.js';
export type { Watermark } from './projector.js';
export { dumpProjection, projectionTables, readModelSchemaVersion } from './read-model-db.js';
export type {
  CurrencyTotals,
  Entry,
  PostedBalance,
  ReadModelAccount,
  ReadModelTransfer,
  Statement,
  StatementOptions,
} from './queries.js';
