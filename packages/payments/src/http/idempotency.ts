// Idempotency-Key, Stripe's way: a key of up to 255 characters names one request. The first
// response (success or a refusal made by the handler) is stored and replayed for every retry
// with the same key and the same parameters; the same key with other parameters is refused
// (IDEMPOTENCY_KEY_REUSED), and while the first is still running a retry is told to wait
// (IDEMPOTENCY_KEY_IN_USE). A request that failed for a passing reason (5xx) stores nothing,
// so its retry runs again, safely, since every step below it is idempotent too.
import { createHash } from 'node:crypto';
import { PaymentError, isPaymentError } from '../errors.js';
import { statement, transact, type Db } from '../store.js';

export const idempotencyKeyLengthMax = 255;

export interface StoredResponse {
  readonly statusCode: number;
  readonly body: unknown;
  readonly replayed: boolean;
}

/** A stable hash of what identifies a request: its route and its body. */
export function requestHash(scope: string, body: unknown): string {
  return createHash('sha256').update(scope).update('\n').update(canonicalJson(body)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonicalJson(inner)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function checkIdempotencyKey(key: unknown): string | undefined {
  if (key === undefined) return undefined;
  if (
    typeof key !== 'string' ||
    key.length === 0 ||
    key.length > idempotencyKeyLengthMax ||
    !/^[\x21-\x7e]+$/.test(key)
  ) {
    throw new PaymentError('IDEMPOTENCY_KEY_INVALID');
  }
  return key;
}

/** Forgets keys whose request was cut short by a crash: their retry runs again. */
export function forgetUnfinishedKeys(db: Db): number {
  return statement(db, 'DELETE FROM idempotency_keys WHERE response IS NULL').run().changes;
}

/** Runs `work` once per key; the stored response answers every repeat. */
export async function withIdempotency(
  db: Db,
  options: { key: string | undefined; hash: string },
  work: () => Promise<{ statusCode: number; body: unknown }>,
): Promise<StoredResponse> {
  const { key, hash } = options;
  if (key === undefined) return { ...(await work()), replayed: false };
  const stored = transact(db, () => {
    const row = statement(
      db,
      'SELECT request_hash, status_code, response FROM idempotency_keys WHERE key = ?',
    ).get(key) as
      { request_hash: string; status_code: number | null; response: string | null } | undefined;
    if (row === undefined) {
      statement(db, 'INSERT INTO idempotency_keys VALUES (?, ?, NULL, NULL, ?)').run(
        key,
        hash,
        Date.now(),
      );
      return undefined;
    }
    if (row.request_hash !== hash) throw new PaymentError('IDEMPOTENCY_KEY_REUSED');
    if (row.response === null) throw new PaymentError('IDEMPOTENCY_KEY_IN_USE');
    return {
      statusCode: row.status_code!,
      body: JSON.parse(row.response) as unknown,
      replayed: true,
    };
  });
  if (stored !== undefined) return stored;
  let outcome: { statusCode: number; body: unknown };
  try {
    outcome = await work();
  } catch (error) {
    if (!isPaymentError(error) || error.httpStatus >= 500) {
      statement(db, 'DELETE FROM idempotency_keys WHERE key = ?').run(key);
      throw error;
    }
    outcome = { statusCode: error.httpStatus, body: error.toBody() };
  }
  statement(db, 'UPDATE idempotency_keys SET status_code = ?, response = ? WHERE key = ?').run(
    outcome.statusCode,
    JSON.stringify(outcome.body),
    key,
  );
  return { ...outcome, replayed: false };
}
