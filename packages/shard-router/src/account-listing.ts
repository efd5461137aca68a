// Ledger.listAccounts: a page of accounts in id order, from every shard's account index
// (AccountOrder in ledger-core), never from the log. Each shard answers its next `limit + 1` ids
// after the cursor; the router merges them in id order and keeps `limit`. The one extra id per
// shard tells whether another page follows, so the last page says `next: null` itself.

import { LedgerError, limits } from '@shardledger/ledger-core';
import { compareIds, isValidCurrency, isValidId } from '@shardledger/ledger-core/internals';
import type { RouterParts } from './router-parts.js';
import type { Account, AccountPage, ListAccountsOptions } from './ledger-types.js';

/** The page size when `limit` is not given. */
export const accountPageSizeDefault = 100;

interface CheckedOptions {
  readonly after: string | null;
  readonly limit: number;
  readonly currency: string | null;
}

function refuse(field: string, problem: string): never {
  throw new LedgerError('INVALID_ARGUMENT', { field, problem });
}

/** The options of listAccounts, checked: INVALID_ARGUMENT names the first wrong one. */
export function checkListOptions(options: unknown): CheckedOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    refuse('options', 'an object');
  const { after, limit, currency } = options as Record<string, unknown>;
  if (after !== undefined && after !== null && !isValidId(after))
    refuse('after', 'an account id (the `next` of the page before) or null');
  if (
    limit !== undefined &&
    (typeof limit !== 'number' ||
      !Number.isSafeInteger(limit) ||
      limit < 1 ||
      limit > limits.pageSizeMax)
  )
    refuse('limit', `an integer from 1 to ${limits.pageSizeMax}`);
  if (currency !== undefined && currency !== null && !isValidCurrency(currency))
    refuse('currency', 'a currency code (A-Z, 0-9 or _, 1 to 12 characters)');
  return {
    after: (after as string | null | undefined) ?? null,
    limit: (limit as number | undefined) ?? accountPageSizeDefault,
    currency: (currency as string | null | undefined) ?? null,
  };
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
  if (merged.length <= limit) return { accounts: merged, next: null };
  const accounts = merged.slice(0, limit);
  return { accounts, next: (accounts[accounts.length - 1] as Account).id };
}
