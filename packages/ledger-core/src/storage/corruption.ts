// Damage met while reading a shard, as one typed error. LMDB reports a page that is not what its
// parent says (MDB_CORRUPTED), a page number past the file (MDB_PAGE_NOTFOUND), a transaction it
// refused after such a fault (MDB_BAD_TXN), a file that is not LMDB (MDB_INVALID); lmdb-js throws
// a plain Error with that code. Our own decoders throw STORAGE_CORRUPT without the shard. Both
// become STORAGE_CORRUPT naming the shard dir (and the sequence, where one is known), so that a
// caller sees which shard to restore instead of an untyped error.

import { LedgerError, isLedgerError, type ErrorDetail } from '../errors.js';

const lmdbCorruptionCodes: ReadonlySet<unknown> = new Set([
  -30796, // MDB_CORRUPTED
  -30797, // MDB_PAGE_NOTFOUND
  -30782, // MDB_BAD_TXN
  -30793, // MDB_INVALID
]);

/** STORAGE_CORRUPT with `detail` added when `error` is damage to the shard's files; null when it
 * is anything else. */
export function corruptionOf(error: unknown, detail: ErrorDetail): LedgerError | null {
  if (isLedgerError(error, 'STORAGE_CORRUPT'))
    return new LedgerError('STORAGE_CORRUPT', { ...detail, ...error.detail });
  if (isLedgerError(error)) return null;
  const code = (error as { code?: unknown } | null)?.code;
  if (!lmdbCorruptionCodes.has(code)) return null;
  return new LedgerError('STORAGE_CORRUPT', {
    ...detail,
    problem: String((error as Error).message),
    lmdbCode: String(code),
  });
}
