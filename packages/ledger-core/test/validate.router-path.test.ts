// Goal: transferSpecOrRejection (the router's general path) decides exactly as parseTransfer does,
// and skipping the account-id scans when the caller vouches for them changes nothing else; and
// readPlainTransfer (the router's hot path) accepts only inputs that the general path accepts,
// with the same fields, and accepts every plain one.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { limits, parseTransfer, type TransferSpec } from '../src/index.js';
import { isRejected, isValidId, transferSpecOrRejection } from '../src/domain/validate.js';
import { readPlainTransfer, type PlainTransferFields } from '../src/storage/transfer-columns.js';

const base = { id: 't1', debitAccountId: 'a', creditAccountId: 'b', amount: 10n, currency: 'USD' };

/** Valid and invalid inputs, one rule broken (or two, to check which one wins) per entry. */
const inputs: unknown[] = [
  base,
  { ...base, amount: 12 },
  { ...base, amount: '12' },
  { ...base, pending: true, timeoutMs: 500 },
  { ...base, pending: false },
  { ...base, metadata: { order: '42' } },
  { ...base, metadata: null },
  { ...base, id: 'héllo-€-😀' },
  null,
  'not an object',
  42,
  { ...base, id: '' },
  { ...base, id: 'a\nb' },
  { ...base, id: 7 },
  { ...base, debitAccountId: '' },
  { ...base, creditAccountId: 'x'.repeat(limits.idSizeBytesMax + 1) },
  { ...base, amount: 0n },
  { ...base, amount: 1.5 },
  { ...base, amount: '1e3' },
  { ...base, currency: 'us$' },
  { ...base, currency: undefined },
  { ...base, pending: 'yes' },
  { ...base, timeoutMs: 5 },
  { ...base, pending: true, timeoutMs: -1 },
  { ...base, pending: true, timeoutMs: limits.timeoutMsMax + 1 },
  { ...base, metadata: ['x'] },
  { ...base, id: '', amount: 0n },
  { ...base, amount: 0n, currency: 'bad!' },
  { ...base, currency: 'bad!', metadata: ['x'] },
];

describe('transferSpecOrRejection', () => {
  it('returns the spec parseTransfer wraps, or the same rejection, for every input', () => {
    for (const input of inputs) {
      const parsed = parseTransfer(input);
      const result = transferSpecOrRejection(input, false);
      if (parsed.ok) {
        expect(isRejected(result)).toBe(false);
        expect(result).toEqual(parsed.value);
      } else {
        expect(result).toEqual(parsed);
      }
    }
  });

  it('with accountIdsValid skips only the account-id checks: same result for valid account ids', () => {
    for (const input of inputs) {
      const raw = input as { debitAccountId?: unknown; creditAccountId?: unknown } | null;
      if (
        typeof raw !== 'object' ||
        raw === null ||
        raw.debitAccountId !== 'a' ||
        raw.creditAccountId !== 'b'
      )
        continue;
      expect(transferSpecOrRejection(input, true)).toEqual(transferSpecOrRejection(input, false));
    }
  });

  it('with accountIdsValid still checks the transfer id, amount, currency, timeout and metadata', () => {
    const codes = [
      { ...base, id: '' },
      { ...base, amount: -1n },
      { ...base, currency: 'usd' },
      { ...base, timeoutMs: 1 },
      { ...base, metadata: 'm' },
    ].map((input) => {
      const result = transferSpecOrRejection(input, true);
      return isRejected(result) ? result.code : 'ok';
    });
    expect(codes).toEqual([
      'INVALID_ID',
      'INVALID_AMOUNT',
      'INVALID_CURRENCY',
      'INVALID_TIMEOUT',
      'INVALID_METADATA',
    ]);
  });

  it('builds a fresh spec with every field, converting the amount to bigint', () => {
    const result = transferSpecOrRejection(
      { ...base, amount: '99', metadata: { b: '2', a: '1' } },
      true,
    ) as TransferSpec;
    expect(isRejected(result)).toBe(false);
    expect(result).toEqual({
      ...base,
      amount: 99n,
      pending: false,
      timeoutMs: 0,
      metadata: { a: '1', b: '2' },
    });
    expect(Object.keys(result.metadata ?? {})).toEqual(['a', 'b']);
  });
});

/** readPlainTransfer against transferSpecOrRejection on one input: when the hot path accepts it
 * (and both account ids are valid), the general path gives the same spec; when the general path
 * accepts a plain input, so does the hot path. Returns whether the hot path accepted it. */
function checkPlainAgainstGeneral(input: unknown): boolean {
  const out: PlainTransferFields = {
    id: '',
    debitAccountId: '',
    creditAccountId: '',
    currency: '',
    amount: 0,
  };
  const plain =
    readPlainTransfer(input, out) &&
    isValidId(out.debitAccountId) &&
    isValidId(out.creditAccountId);
  const general = transferSpecOrRejection(input, false);
  if (plain) {
    expect(isRejected(general)).toBe(false);
    expect(general).toEqual({
      id: out.id,
      debitAccountId: out.debitAccountId,
      creditAccountId: out.creditAccountId,
      amount: BigInt(out.amount),
      currency: out.currency,
      pending: false,
      timeoutMs: 0,
      metadata: null,
    });
    expect(Number.isSafeInteger(out.amount) && out.amount >= 1).toBe(true);
  } else if (!isRejected(general)) {
    // Refused by the hot path but valid: it must not be plain (so the general path is the only one).
    const spec = general;
    expect(
      spec.pending ||
        spec.metadata !== null ||
        spec.amount > BigInt(Number.MAX_SAFE_INTEGER) ||
        typeof (input as { amount: unknown }).amount === 'string' ||
        (input as { timeoutMs?: unknown }).timeoutMs === null,
    ).toBe(true);
  }
  return plain;
}

describe('readPlainTransfer', () => {
  it('agrees with transferSpecOrRejection on every listed input', () => {
    const accepted = inputs.filter((input) => checkPlainAgainstGeneral(input));
    // base, a number amount, pending: false, metadata: null and a non-ASCII id are plain; nothing
    // else listed is.
    expect(accepted).toEqual([inputs[0], inputs[1], inputs[4], inputs[6], inputs[7]]);
  });

  it('agrees with transferSpecOrRejection on random inputs, valid and invalid', () => {
    // Valid values weigh more, so that many inputs are plain and valid.
    const ids = fc.oneof(
      { arbitrary: fc.constantFrom('t1', 'a', 'b', 'héllo-€'), weight: 12 },
      fc.constantFrom('', 'a\nb', 'x'.repeat(limits.idSizeBytesMax + 1)),
      fc.string({ maxLength: 8 }),
      fc.integer(),
      fc.constant(undefined),
    );
    const amounts = fc.oneof(
      { arbitrary: fc.bigInt({ min: -3n, max: 1n << 60n }), weight: 3 },
      fc.constantFrom(
        0n,
        1n,
        BigInt(Number.MAX_SAFE_INTEGER),
        BigInt(Number.MAX_SAFE_INTEGER) + 1n,
        (1n << 128n) - 1n,
        1n << 128n,
      ),
      { arbitrary: fc.integer({ min: -3, max: 1_000_000 }), weight: 3 },
      fc.constantFrom(
        Number.MAX_SAFE_INTEGER,
        Number.MAX_SAFE_INTEGER + 1,
        1.5,
        Number.NaN,
        Number.POSITIVE_INFINITY,
        -0,
      ),
      fc.constantFrom('12', '1e3', '', '0', '007', null, undefined, true),
    );
    // An optional field: absent, its plain value, or one of the others.
    const optional = <T>(plain: T, others: T[]) =>
      fc.oneof(
        { arbitrary: fc.constant(undefined), weight: 3 },
        { arbitrary: fc.constant(plain), weight: 2 },
        fc.constantFrom(...others),
      );
    const arbitrary = fc.record(
      {
        id: ids,
        debitAccountId: ids,
        creditAccountId: ids,
        amount: amounts,
        currency: fc.oneof(
          { arbitrary: fc.constantFrom('USD', 'EUR_2'), weight: 6 },
          fc.constantFrom('usd', 'us$', '', 'ABCDEFGHIJKLM', undefined, 5),
        ),
        pending: optional<unknown>(false, [true, 'yes', 0, null]),
        timeoutMs: optional<unknown>(0, [5, -1, 1.5, null, '0']),
        metadata: optional<unknown>(null, [{ order: '42' }, {}, ['x'], 'm']),
      },
      { requiredKeys: ['id', 'debitAccountId', 'creditAccountId', 'amount', 'currency'] },
    );
    let acceptedCount = 0;
    fc.assert(
      fc.property(arbitrary, (input) => {
        if (checkPlainAgainstGeneral(input)) acceptedCount += 1;
      }),
      { numRuns: 3_000 },
    );
    // The property saw both sides of the hot path.
    expect(acceptedCount).toBeGreaterThan(100);
  });
});
