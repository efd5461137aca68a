// Checks the options of a run before anything is read or written: a malformed one is
// INVALID_ARGUMENT naming the option.

import { LedgerError } from '@shardledger/shard-router';
import type { ReconcileOptions } from './reconcile.js';

/** Most buckets a run splits into (each is a pair of files). */
export const bucketCountMax = 4096;
/** Most threads a run's pool may start. */
export const threadsMax = 64;

function refuse(option: string, why: string): never {
  throw new LedgerError('INVALID_ARGUMENT', { option }, `INVALID_ARGUMENT: ${option} ${why}`);
}

function checkInteger(value: number | undefined, option: string, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isSafeInteger(value) || value < min || value > max)
    refuse(option, `must be an integer from ${min} to ${max}, got ${String(value)}`);
}

export function checkReconcileOptions(options: ReconcileOptions): void {
  if (typeof options.file !== 'string' || options.file === '') refuse('file', 'must be a path');
  if (typeof options.workDir !== 'string' || options.workDir === '')
    refuse('workDir', 'must be a path');
  checkInteger(options.bucketCount, 'bucketCount', 1, bucketCountMax);
  checkInteger(options.threads, 'threads', 1, threadsMax);
  checkInteger(options.fromMs, 'fromMs', 0, Number.MAX_SAFE_INTEGER);
  checkInteger(options.toMs, 'toMs', 0, Number.MAX_SAFE_INTEGER);
  if (options.fromMs !== undefined && options.toMs !== undefined && options.fromMs >= options.toMs)
    refuse('fromMs', 'must be before toMs');
  if (options.referenceKey !== undefined && options.referenceKey === '')
    refuse('referenceKey', 'must not be empty');
  const tolerance = options.match?.amountTolerance;
  if (tolerance !== undefined && (typeof tolerance !== 'bigint' || tolerance < 0n))
    refuse('match.amountTolerance', 'must be a bigint of at least 0');
  checkInteger(options.match?.dateToleranceMs, 'match.dateToleranceMs', 0, Number.MAX_SAFE_INTEGER);
}
