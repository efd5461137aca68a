// @shardledger/reconciliation: reconciles a Shardledger ledger against PSP settlement files.
// Streaming parsers and mapping profiles, deterministic matching, typed breaks with a lifecycle,
// balance checks, recorded and resumable runs, reports. Internals are behind `./internals`.
export {
  reconcile,
  reconcileLedgerOptions,
  runIdFor,
  referenceKeyDefault,
  bucketCountDefault,
} from './reconcile.js';
export { checkSettlementFile, lookupRun, runIdPattern, type RunLookup } from './run-lookup.js';
export type { ReconcileOptions, ReconcileResult, RunProgress, RunPhase } from './reconcile.js';
export { resolveBreaks, resolveStatuses } from './resolve.js';
export type { ResolveOptions, ResolveResult, ResolveStatus } from './resolve.js';
export { formatReport, reportFormats, type ReportFormat } from './report-format.js';
export {
  builtInProfiles,
  jsonLinesProfile,
  profileByName,
  simulatedProfile,
  type AmountLayout,
  type AmountUnit,
  type DateFormat,
  type FileFormat,
  type Profile,
  type ProfileColumns,
  type SignMode,
} from './profiles.js';
export { fileRefusals, type FileRefusal } from './settlement-reader.js';
export { autoRulesDefault, matchOptionsDefault } from './match-options.js';
export type { AmountBasis, AutoRule, MatchOptions } from './match-options.js';
export { adjustmentKeys, type ClearingSide } from './ledger-source.js';
export { clearingAccountTemplateDefault, suspenseAccountTemplateDefault } from './accounts.js';
export { breakClasses, breakStatuses, breakTypes, matchKinds } from './types.js';
export type {
  Adjustment,
  Break,
  BreakClass,
  BreakStatus,
  BreakType,
  MatchCounts,
  MatchKind,
} from './types.js';
export type {
  BadLine,
  BalanceCheck,
  CurrencyTotals,
  LedgerSummary,
  Report,
  ReportBreak,
  RunInputs,
  SettlementSummary,
} from './run-types.js';
