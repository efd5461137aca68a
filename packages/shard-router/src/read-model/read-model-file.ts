// The read model's queries, checked, over one connection: what ReadModel answers, and what a
// file opened for queries only answers (the CLI, or a reporting process, reading the file that a
// running application projects into: no projection, results show how far it has got). Each one
// has the name, the arguments and the result of the Ledger call that does the same thing.

import type { AsOf, ListAccountsOptions } from '../ledger-types.js';
import { checkListOptions } from '../account-listing.js';
import {
  checkAccountId,
  checkAsOf,
  checkIdList,
  checkMetadataQuery,
  checkStatementOptions,
} from '../arguments.js';
import type { Watermark } from './projector.js';
import { openReadModelDb, type ReadModelDb } from './read-model-db.js';
import {
  accountsOf,
  balanceAsOfOf,
  currencyTotalsOf,
  listAccountsOf,
  statementOf,
  transfersByMetadata,
  transfersOf,
  watermarksOf,
  type StatementOptions,
} from './queries.js';

/** The read model's queries: ReadModel and ReadModelFile both have them. */
export interface ReadModelQueries {
  /** As Ledger.lookupAccounts: one account or undefined per id, in order. */
  lookupAccounts(ids: readonly string[]): ReturnType<typeof accountsOf>;
  /** As Ledger.lookupTransfers: one transfer or undefined per id, in order. */
  lookupTransfers(ids: readonly string[]): ReturnType<typeof transfersOf>;
  /** As Ledger.listAccounts, plus the watermark the page reflects. */
  listAccounts(options?: ListAccountsOptions): ReturnType<typeof listAccountsOf>;
  /** As Ledger.balanceAsOf: the account as it was at a past moment. */
  balanceAsOf(accountId: string, at?: AsOf): ReturnType<typeof balanceAsOfOf>;
  /** An account's statement over a time range, a page of entries at a time. */
  statement(options: StatementOptions): ReturnType<typeof statementOf>;
  /** Transfers whose metadata has `key` = `value`, a page at a time. */
  transfersByMetadata(options: {
    readonly key: string;
    readonly value: string;
    readonly after?: string | null;
    readonly limit?: number;
  }): ReturnType<typeof transfersByMetadata>;
  /** Sums of every account's counters per currency. */
  currencyTotals(): ReturnType<typeof currencyTotalsOf>;
}

/** The queries over the connection that `db` returns (it may check that the model is open). */
export function readModelQueries(db: () => ReadModelDb): ReadModelQueries {
  // An invalid id becomes '', which names no row (an id is never empty).
  const validIds = (ids: readonly string[]): string[] =>
    checkIdList(ids, 'ids').map((id) => id ?? '');
  return {
    lookupAccounts: (ids) => accountsOf(db(), validIds(ids)),
    lookupTransfers: (ids) => transfersOf(db(), validIds(ids)),
    listAccounts: (options = {}) => listAccountsOf(db(), checkListOptions(options)),
    balanceAsOf: (accountId, at = {}) => {
      checkAccountId(accountId);
      return balanceAsOfOf(db(), accountId, checkAsOf(at));
    },
    statement: (options) => statementOf(db(), { ...options, ...checkStatementOptions(options) }),
    transfersByMetadata: (options) =>
      transfersByMetadata(db(), { ...options, ...checkMetadataQuery(options) }),
    currencyTotals: () => currencyTotalsOf(db()),
  };
}

export interface ReadModelFile extends ReadModelQueries {
  readonly path: string;
  readonly db: ReadModelDb;
  /** Per shard, the last event projected into the file. */
  watermark(): readonly Watermark[];
  close(): void;
}

export function openReadModelFile(options: { readonly path: string }): ReadModelFile {
  const db = openReadModelDb({ path: options.path, readonly: true });
  return {
    ...readModelQueries(() => db),
    path: options.path,
    db,
    watermark: () => watermarksOf(db),
    close: () => db.close(),
  };
}
