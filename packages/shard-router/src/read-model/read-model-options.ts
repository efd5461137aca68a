// The options of ReadModel.open, and the settings of its projection loop checked from them.

import { LedgerError, limits } from '@shardledger/ledger-core';
import type { Ledger } from '../ledger.js';

export interface ReadModelOptions {
  /** Project this open ledger (the caller keeps owning it)... */
  readonly ledger?: Ledger;
  /** ...or open the ledger in this dir (owned: closed by `close`). One of the two is required. */
  readonly dir?: string;
  /** The SQLite file (default `<ledger dir>/read-model.sqlite`). */
  readonly path?: string;
  /** Events read from a shard and applied in one transaction (default limits.batchSizeMax). */
  readonly batchSizeEvents?: number;
  /** Pause between polls when every shard is caught up (default 5 ms); it doubles on each poll
   * that finds nothing, up to `pollIntervalMaxMs`. */
  readonly pollIntervalMs?: number;
  /** Longest pause between polls of an idle ledger (default 50 ms): the lag an idle projector
   * adds to the first event after a quiet spell. `waitFor` polls at once. */
  readonly pollIntervalMaxMs?: number;
  /** Niceness of the projector's worker thread, 0 to 19 (default 19): at 19 it runs on CPU time
   * the writers leave idle, so it lags under peak load rather than slowing writes down. */
  readonly projectorNiceness?: number;
  /** Start following the logs at once (default true); otherwise project on `catchUp`/`waitFor`. */
  readonly follow?: boolean;
}

/** The options that shape the projection, with their defaults filled in. */
export interface ReadModelSettings {
  readonly batchSizeEvents: number;
  readonly pollIntervalMs: number;
  readonly pollIntervalMaxMs: number;
  readonly projectorNiceness: number;
}

const pollIntervalMsDefault = 5;
const pollIntervalMaxMsDefault = 50;
const projectorNicenessDefault = 19;

/** The settings the options ask for; INVALID_ARGUMENT for a value out of range. */
export function settingsOf(options: ReadModelOptions): ReadModelSettings {
  const settings: ReadModelSettings = {
    batchSizeEvents: options.batchSizeEvents ?? limits.batchSizeMax,
    pollIntervalMs: options.pollIntervalMs ?? pollIntervalMsDefault,
    pollIntervalMaxMs:
      options.pollIntervalMaxMs ?? Math.max(pollIntervalMaxMsDefault, options.pollIntervalMs ?? 0),
    projectorNiceness: options.projectorNiceness ?? projectorNicenessDefault,
  };
  const { batchSizeEvents, pollIntervalMs, pollIntervalMaxMs, projectorNiceness } = settings;
  if (
    !Number.isSafeInteger(batchSizeEvents) ||
    batchSizeEvents < 1 ||
    batchSizeEvents > limits.batchSizeMax
  ) {
    throw new LedgerError('INVALID_ARGUMENT', { batchSizeEvents: `1 to ${limits.batchSizeMax}` });
  }
  if (
    !Number.isSafeInteger(pollIntervalMs) ||
    pollIntervalMs < 1 ||
    !Number.isSafeInteger(pollIntervalMaxMs) ||
    pollIntervalMaxMs < pollIntervalMs
  ) {
    throw new LedgerError('INVALID_ARGUMENT', {
      pollIntervalMs: 'an integer >= 1, and pollIntervalMaxMs >= pollIntervalMs',
    });
  }
  if (!Number.isSafeInteger(projectorNiceness) || projectorNiceness < 0 || projectorNiceness > 19) {
    throw new LedgerError('INVALID_ARGUMENT', { projectorNiceness: '0 to 19' });
  }
  return settings;
}
