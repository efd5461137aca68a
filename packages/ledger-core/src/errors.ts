// The one error catalogue. Every code is stable forever: never renamed, never
// reused. docs/reference/errors.md has a heading per code; test/errors.test.ts keeps both in step.
//
// Three kinds, three handlings:
// - rejection: a business outcome, returned as a result `status` (the code in snake_case);
// - operational: the call rejects with a LedgerError (closed ledger, full queue, I/O, timeout);
// - bug: a broken invariant; the shard stops and recovers from its log.

export const errorCatalogue = {
  // Rejections: one per result status other than `ok` and `exists`.
  EXISTS_WITH_DIFFERENT_FIELDS: {
    kind: 'rejection',
    message: 'the id already exists with different fields',
  },
  INVALID_ID: {
    kind: 'rejection',
    message: 'id must be a non-empty string of at most 128 UTF-8 bytes without control characters',
  },
  INVALID_CURRENCY: {
    kind: 'rejection',
    message:
      'currency must be 1 to 12 characters A-Z, 0-9 or _, optionally followed by /SCALE (0 to 18)',
  },
  CURRENCY_UNKNOWN: {
    kind: 'rejection',
    message: 'the currency is not an ISO 4217 code; declare its scale in the code, as in USDC/6',
  },
  INVALID_FLAGS: {
    kind: 'rejection',
    message: 'debitsMustNotExceedCredits and creditsMustNotExceedDebits are mutually exclusive',
  },
  INVALID_METADATA: {
    kind: 'rejection',
    message: 'metadata must be a flat object of at most 16 short string values',
  },
  INVALID_AMOUNT: {
    kind: 'rejection',
    message:
      'amount must be an integer of minor units, 1 to 2^128-1 (bigint, safe integer or decimal digits), or decimal text like 12.34',
  },
  AMOUNT_TOO_PRECISE: {
    kind: 'rejection',
    message: 'the amount has more decimal places than its currency',
  },
  INVALID_TIMEOUT: {
    kind: 'rejection',
    message: 'timeoutMs must be a non-negative safe integer, only on a pending transfer',
  },
  ACCOUNTS_MUST_BE_DIFFERENT: {
    kind: 'rejection',
    message: 'debit and credit account must differ',
  },
  ACCOUNT_NOT_FOUND: { kind: 'rejection', message: 'the debit or credit account does not exist' },
  CURRENCY_MISMATCH: {
    kind: 'rejection',
    message: 'the transfer currency must match both accounts',
  },
  INSUFFICIENT_FUNDS: {
    kind: 'rejection',
    message: 'the debit account may not have debits exceed credits',
  },
  EXCEEDS_DEBITS: {
    kind: 'rejection',
    message: 'the credit account may not have credits exceed debits',
  },
  OVERFLOW: { kind: 'rejection', message: 'a balance counter would exceed 2^128-1' },
  PENDING_NOT_FOUND: { kind: 'rejection', message: 'no pending transfer has this pendingId' },
  NOT_PENDING: {
    kind: 'rejection',
    message: 'pendingId names a transfer that was not created as pending',
  },
  PENDING_ALREADY_POSTED: { kind: 'rejection', message: 'the pending transfer was already posted' },
  PENDING_ALREADY_VOIDED: { kind: 'rejection', message: 'the pending transfer was already voided' },
  PENDING_EXPIRED: { kind: 'rejection', message: 'the pending transfer timed out and was voided' },
  AMOUNT_EXCEEDS_PENDING: {
    kind: 'rejection',
    message: 'a post may not exceed the pending amount',
  },
  TOO_MANY_PENDING: {
    kind: 'rejection',
    message: 'the shard holds the maximum number of open pending transfers',
  },
  LINKED_TRANSFER_FAILED: {
    kind: 'rejection',
    message: 'another transfer of the same atomic group failed, so none was applied',
  },
  CROSS_SHARD_PENDING_UNSUPPORTED: {
    kind: 'rejection',
    message:
      'an atomic group may not hold a pending (two-phase) transfer whose accounts live on two shards',
  },
  DUPLICATE_ID_IN_GROUP: {
    kind: 'rejection',
    message: 'two transfers of one atomic group have the same id',
  },
  TRANSFER_IN_FLIGHT: {
    kind: 'rejection',
    message: 'a cross-shard saga with this transfer id is still in flight',
  },
  RESERVATION_NOT_FOUND: {
    kind: 'rejection',
    message: 'saga step: no reservation of this saga on the shard',
  },
  RESERVATION_RELEASED: {
    kind: 'rejection',
    message: 'saga step: the reservation was already released (rolled back)',
  },
  RESERVATION_COMMITTED: {
    kind: 'rejection',
    message: 'saga step: the reservation was already committed',
  },
  ACCOUNT_FROZEN: {
    kind: 'rejection',
    message: 'the account is frozen: it takes part in no new transfer until it is unfrozen',
  },
  ACCOUNT_CLOSED: {
    kind: 'rejection',
    message: 'the account is closed: it takes part in no transfer and cannot be reopened',
  },
  ACCOUNT_BALANCE_NOT_ZERO: {
    kind: 'rejection',
    message: 'an account is closed only when its posted balance and pending amounts are zero',
  },

  // Operational errors: the promise rejects; nothing was written by the failing call.
  INVALID_ARGUMENT: {
    kind: 'operational',
    message: 'the call was made with arguments of the wrong shape',
  },
  BATCH_TOO_LARGE: {
    kind: 'operational',
    message: 'a batch holds more items than limits.batchSizeMax',
  },
  QUEUE_FULL: {
    kind: 'operational',
    message: 'too many commands are waiting for a shard; retry later',
  },
  LEDGER_CLOSED: { kind: 'operational', message: 'the ledger or shard is closed' },
  SHARD_UNAVAILABLE: {
    kind: 'operational',
    message: 'the shard crashed or is restarting; the call may be retried with the same ids',
  },
  SHARD_COUNT_MISMATCH: {
    kind: 'operational',
    message: 'the data dir was created with another shard count',
  },
  NOT_A_LEDGER: {
    kind: 'operational',
    message: 'the directory is not a Shardledger data dir this build can read',
  },
  DIR_LOCKED: {
    kind: 'operational',
    message: 'the data dir is open in a live process (this one or another)',
  },
  WRITER_FENCED: {
    kind: 'operational',
    message: 'another writer opened the shard after this one; this one accepts nothing more',
  },
  LEASE_HELD: {
    kind: 'operational',
    message: 'another live process serves this replicated ledger (it holds the lease)',
  },
  REPLICATION_UNAVAILABLE: {
    kind: 'operational',
    message: 'no quorum of the replicated log acknowledged in time; the call may be retried',
  },
  SHARD_IDENTITY_MISMATCH: {
    kind: 'operational',
    message: 'a shard of the data dir is missing, empty, or belongs to another shard or ledger',
  },
  STORAGE_CORRUPT: { kind: 'operational', message: 'the event log failed a consistency check' },
  IO_ERROR: { kind: 'operational', message: 'reading or writing the data dir failed' },
  DEPENDENCY_MISSING: {
    kind: 'operational',
    message:
      'an optional package this call needs is not installed (or its native addon is not built)',
  },
  STORAGE_FULL: {
    kind: 'operational',
    message:
      'the disk or file size limit is full (ENOSPC or EFBIG); nothing of the call was written',
  },
  TIMEOUT: { kind: 'operational', message: 'the operation did not finish within its time limit' },
  FAILPOINT: { kind: 'operational', message: 'a failpoint injected this failure (tests only)' },

  // Bugs.
  ASSERTION_FAILED: {
    kind: 'bug',
    message: 'an internal invariant was broken; the shard stops and recovers',
  },
} as const;

export type ErrorCode = keyof typeof errorCatalogue;
export type ErrorKind = 'rejection' | 'operational' | 'bug';
export type RejectionCode = {
  [K in ErrorCode]: (typeof errorCatalogue)[K]['kind'] extends 'rejection' ? K : never;
}[ErrorCode];
/** The `status` of a result: `ok`, `exists`, or a rejection code in snake_case. */
export type RejectionStatus = Lowercase<RejectionCode>;

export type ErrorDetail = Readonly<Record<string, string | number | boolean | null>>;

/** Every operational error and bug that crosses the API. Check with isLedgerError, which also
 * works for errors that crossed a worker-thread boundary (where instanceof does not). */
/** Operational errors after which the same call, with the same ids, may simply be sent again. */
const retryableCodes: ReadonlySet<string> = new Set([
  'SHARD_UNAVAILABLE',
  'QUEUE_FULL',
  'TIMEOUT',
  'REPLICATION_UNAVAILABLE',
]);

export class LedgerError extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  readonly detail: ErrorDetail;
  readonly retryable: boolean;

  constructor(code: ErrorCode, detail: ErrorDetail = {}, message?: string) {
    super(message ?? `${code}: ${errorCatalogue[code].message}${formatDetail(detail)}`);
    this.name = 'LedgerError';
    this.code = code;
    this.kind = errorCatalogue[code].kind;
    this.detail = detail;
    this.retryable = retryableCodes.has(code);
  }
}

function formatDetail(detail: ErrorDetail): string {
  const keys = Object.keys(detail);
  if (keys.length === 0) return '';
  return ` (${keys.map((key) => `${key}=${String(detail[key])}`).join(', ')})`;
}

export function isLedgerError(error: unknown, code?: ErrorCode): error is LedgerError {
  if (typeof error !== 'object' || error === null) return false;
  const candidate = error as { code?: unknown; kind?: unknown };
  if (typeof candidate.code !== 'string' || !(candidate.code in errorCatalogue)) return false;
  if (typeof candidate.kind !== 'string') return false;
  return code === undefined || candidate.code === code;
}

/** A plain object that survives structured clone and msgpack; rebuilt by `errorFromWire`. */
export interface WireError {
  code: ErrorCode;
  message: string;
  detail: ErrorDetail;
}

export function errorToWire(error: unknown): WireError {
  if (isLedgerError(error))
    return { code: error.code, message: error.message, detail: error.detail };
  if (
    typeof error === 'object' &&
    error !== null &&
    (error as { code?: unknown }).code === 'ASSERTION_FAILED'
  ) {
    return { code: 'ASSERTION_FAILED', message: String((error as Error).message), detail: {} };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'IO_ERROR', message, detail: {} };
}

export function errorFromWire(wire: WireError): LedgerError {
  return new LedgerError(wire.code, wire.detail, wire.message);
}

export function statusOf(code: RejectionCode): RejectionStatus {
  return code.toLowerCase() as RejectionStatus;
}
