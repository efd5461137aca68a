// Ledger.listAccounts: a page of accounts in id order, from every shard's account index
// (AccountOrder in ledger-core), never from the log. Each shard answers its next `limit + 1` ids
// after the cursor; the router merges them in id order and keeps `limit`. The one extra id per
// shard tells whether another page follows, so the last page says `next: null` itself.

import { LedgerError } from '@shardledger/ledger-core';
import { compareIds, isValidCurrency, isValidId } from '@shardledger/ledger-core/internals';
import type { RouterParts } from './router-parts.js';
import type { Account, AccountPage, ListAccountsOptions } from './ledger-types.js';
import { badCursor, checkPage, pageOf } from './page.js';

interface CheckedOptions {
  readonly after: string | null;
  readonly limit: number;
  readonly currency: string | null;
}

/** The options of listAccounts (the Ledger's and the read model's), checked: INVALID_ARGUMENT
 * names the first wrong one. The cursor is the last account id of the page before. */
export function checkListOptions(options: unknown): CheckedOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw new LedgerError('INVALID_ARGUMENT', { field: 'options', problem: 'an object' });
  const { after, limit } = checkPage(options as Record<string, unknown>);
  if (after !== null && !isValidId(after)) badCursor(after);
  const { currency } = options as Record<string, unknown>;
  if (currency !== undefined && currency !== null && !isValidCurrency(currency))
    throw new LedgerError('INVALID_ARGUMENT', {
      field: 'currency',
      problem: 'a currency code (A-Z, 0-9 or _, 1 to 12 characters)',
    });
  return { after, limit, currency: (currency as string | null | undefined) ?? null };
}

/** One page of accounts across every shard, in id order. */
export async function listAccounts(
  parts: RouterParts,
  options: ListAccountsOptions,
): Promise<AccountPage> {
  const { after, limit, currency } = checkListOptions(options);
  const pages = await Promise.all(
    parts.clients.map((client) => client.listAccounts(after, limit + 1, currency)),
  );
  const merged: Account[] = pages.length === 1 ? (pages[0] as Account[]) : pages.flat();
  if (pages.length > 1) merged.sort((left, right) => compareIds(left.id, right.id));
  const { items, next } = pageOf(merged, limit, (last) => last.id);
  return { accounts: items, next };
}
