// A read model file opened for queries only: the CLI (or a reporting process) reading the file
// that a running application projects into. No projection: results show how far it has got.

import type { Watermark } from './projector.js';
import { openReadModelDb, type ReadModelDb } from './read-model-db.js';
import {
  accountsOf,
  balanceAsOfTime,
  currencyTotalsOf,
  statementOf,
  transfersByMetadata,
  transfersOf,
  watermarksOf,
  type StatementOptions,
} from './queries.js';

export interface ReadModelFile {
  readonly path: string;
  readonly db: ReadModelDb;
  statement(options: StatementOptions): ReturnType<typeof statementOf>;
  balanceAsOf(options: {
    readonly accountId: string;
    readonly timestamp: bigint;
  }): ReturnType<typeof balanceAsOfTime>;
  transfersByMetadata(
    options: Parameters<typeof transfersByMetadata>[1],
  ): ReturnType<typeof transfersByMetadata>;
  lookupAccounts(ids: readonly string[]): ReturnType<typeof accountsOf>;
  lookupTransfers(ids: readonly string[]): ReturnType<typeof transfersOf>;
  currencyTotals(): ReturnType<typeof currencyTotalsOf>;
  watermark(): Watermark[];
  close(): void;
}

export function openReadModelFile(options: { readonly path: string }): ReadModelFile {
  const db = openReadModelDb({ path: options.path, readonly: true });
  return {
    path: options.path,
    db,
    statement: (query) => statementOf(db, query),
    balanceAsOf: (query) => balanceAsOfTime(db, query),
    transfersByMetadata: (query) => transfersByMetadata(db, query),
    lookupAccounts: (ids) => accountsOf(db, ids),
    lookupTransfers: (ids) => transfersOf(db, ids),
    currencyTotals: () => currencyTotalsOf(db),
    watermark: () => watermarksOf(db),
    close: () => db.close(),
  };
}
