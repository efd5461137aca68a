// Goal: transferSpecOrRejection (the router's hot path) decides exactly as parseTransfer does, and
// skipping the account-id scans when the caller vouches for them changes nothing else.
import { describe, expect, it } from 'vitest';
import { isRejected, limits, parseTransfer, transferSpecOrRejection, type TransferSpec } from '../src/index.js';

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
      if (typeof raw !== 'object' || raw === null || raw.debitAccountId !== 'a' || raw.creditAccountId !== 'b') continue;
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
    expect(codes).toEqual(['INVALID_ID', 'INVALID_AMOUNT', 'INVALID_CURRENCY', 'INVALID_TIMEOUT', 'INVALID_METADATA']);
  });

  it('builds a fresh spec with every field, converting the amount to bigint', () => {
    const result = transferSpecOrRejection({ ...base, amount: '99', metadata: { b: '2', a: '1' } }, true) as TransferSpec;
    expect(isRejected(result)).toBe(false);
    expect(result).toEqual({ ...base, amount: 99n, pending: false, timeoutMs: 0, metadata: { a: '1', b: '2' } });
    expect(Object.keys(result.metadata ?? {})).toEqual(['a', 'b']);
  });
});
