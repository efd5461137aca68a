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

/** A cursor made of a sequence number (Ledger.accountHistory): its decimal digits. */
export function sequenceCursor(sequence: number): string {
  return String(sequence);
}

/** The sequence number of a sequenceCursor; INVALID_ARGUMENT for any other string. */
export function readSequenceCursor(after: string): number {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(after)) badCursor(after);
  const sequence = Number(after);
  if (!Number.isSafeInteger(sequence)) badCursor(after);
  return sequence;
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
