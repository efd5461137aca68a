// The one pagination of every list, on the Ledger and on the read model: `{ after, limit }` in,
// `{ <items>, next }` out. A cursor is an opaque string that each list makes from its last item
// and reads back with its own parser; the page size has one default and one maximum.

import { LedgerError, limits } from '@shardledger/ledger-core';

/** The page size when `limit` is not given, on every list. */
export const pageSizeDefault = 100;

/** A page's options once checked: the cursor (null: the first page) and the page size. */
export interface CheckedPage {
  readonly after: string | null;
  readonly limit: number;
}

function refuse(field: string, problem: string): never {
  throw new LedgerError('INVALID_ARGUMENT', { field, problem });
}

/** The page options of `options` (an object): `after` a string or null or absent, `limit` an
 * integer from 1 to limits.pageSizeMax or absent. INVALID_ARGUMENT names the first wrong one. */
export function checkPage(options: Record<string, unknown>): CheckedPage {
  const { after, limit } = options;
  if (after !== undefined && after !== null && typeof after !== 'string')
    refuse('after', 'a string (the `next` of the page before) or null');
  if (
    limit !== undefined &&
    (typeof limit !== 'number' ||
      !Number.isSafeInteger(limit) ||
      limit < 1 ||
      limit > limits.pageSizeMax)
  )
    refuse('limit', `an integer from 1 to ${limits.pageSizeMax}`);
  return { after: after ?? null, limit: (limit as number | undefined) ?? pageSizeDefault };
}

/** A cursor that is no cursor of the list it was passed to. */
export function badCursor(after: string): never {
  refuse('after', `not a cursor of this list: '${after.slice(0, 64)}'`);
}

/** The history options of a cursor of Ledger.accountHistory (null: the first page): a sequence
 * number's decimal digits, then `.leg` when the page before ended within a saga step that posted
 * several legs to the account. INVALID_ARGUMENT for any other string. */
export function readHistoryCursor(after: string | null): {
  readonly afterSequence: number;
  readonly afterLeg?: number;
} {
  if (after === null) return { afterSequence: 0 };
  const match = /^(0|[1-9][0-9]{0,15})(?:\.(0|[1-9][0-9]{0,8}))?$/.exec(after);
  if (match === null) badCursor(after);
  const afterSequence = Number(match[1]);
  if (!Number.isSafeInteger(afterSequence)) badCursor(after);
  return match[2] === undefined ? { afterSequence } : { afterSequence, afterLeg: Number(match[2]) };
}

/** The cursor of the page after a shard's history page (readHistoryCursor), or null. */
export function nextHistoryCursor(page: {
  readonly nextAfterSequence: number | null;
  readonly nextAfterLeg: number | null;
}): string | null {
  const { nextAfterSequence: sequence, nextAfterLeg: leg } = page;
  if (sequence === null) return null;
  return leg === null ? String(sequence) : `${sequence}.${leg}`;
}

/** Keeps `limit` of `rows` (asked for with `limit + 1`, so that one more tells whether another
 * page follows) and the cursor of the last one kept, or null when no row was left over. */
export function pageOf<T>(
  rows: readonly T[],
  limit: number,
  cursorOf: (last: T) => string,
): { items: T[]; next: string | null } {
  if (rows.length <= limit) return { items: rows.slice(), next: null };
  const items = rows.slice(0, limit);
  return { items, next: cursorOf(items[limit - 1] as T) };
}
