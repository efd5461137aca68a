// The input boundary: every validation rule and rejection code, by calling the parsers directly.
import { describe, expect, it } from 'vitest';
import {
  limits,
  parseAccount,
  parseResolution,
  parseTransfer,
  type RejectionCode,
} from '../src/index.js';
import { AMOUNT_MAX } from '../src/limits.js';
import {
  isValidCurrency,
  isValidId,
  metadataEqual,
  parseMinorUnits,
  parseMetadata,
  utf8Length,
} from '../src/domain/validate.js';

const base = { id: 't1', debitAccountId: 'a', creditAccountId: 'b', amount: 10n, currency: 'USD' };

function codeOf(parsed: { ok: boolean; code?: RejectionCode }): RejectionCode | 'ok' {
  return parsed.ok ? 'ok' : (parsed.code as RejectionCode);
}

describe('parseMinorUnits', () => {
  it('accepts a bigint, a safe-integer number and a string of decimal digits', () => {
    expect(parseMinorUnits(1n)).toBe(1n);
    expect(parseMinorUnits(42)).toBe(42n);
    expect(parseMinorUnits(Number.MAX_SAFE_INTEGER)).toBe(BigInt(Number.MAX_SAFE_INTEGER));
    expect(parseMinorUnits('1234')).toBe(1234n);
    expect(parseMinorUnits('340282366920938463463374607431768211455')).toBe(AMOUNT_MAX);
    expect(parseMinorUnits(AMOUNT_MAX)).toBe(AMOUNT_MAX);
  });

  it('rejects floats, unsafe integers, NaN and infinities', () => {
    for (const amount of [1.5, 0.1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, 1e21]) {
      expect(parseMinorUnits(amount)).toBeNull();
    }
  });

  it('rejects zero and negatives in every form', () => {
    for (const amount of [0, -0, -1, 0n, -1n, '0', '-1', '000'])
      expect(parseMinorUnits(amount)).toBeNull();
  });

  it('rejects strings that are not plain decimal digits instead of rounding them', () => {
    for (const amount of [
      '',
      ' 1',
      '1 ',
      '1e3',
      '12.5',
      '12.',
      '0x10',
      '+1',
      '1_000',
      '١٢',
      'abc',
      '1n',
    ]) {
      expect(parseMinorUnits(amount)).toBeNull();
    }
  });

  it('rejects anything above 2^128-1', () => {
    expect(parseMinorUnits(AMOUNT_MAX + 1n)).toBeNull();
    expect(parseMinorUnits((AMOUNT_MAX + 1n).toString())).toBeNull();
    expect(parseMinorUnits('9'.repeat(41))).toBeNull();
  });

  it('rejects values of other types', () => {
    for (const amount of [null, undefined, true, {}, [1], Symbol('x')])
      expect(parseMinorUnits(amount)).toBeNull();
  });
});

describe('ids', () => {
  it('accepts ids up to 128 UTF-8 bytes, counting multi-byte characters by their bytes', () => {
    expect(isValidId('x'.repeat(128))).toBe(true);
    expect(isValidId('x'.repeat(129))).toBe(false);
    expect(isValidId('€'.repeat(42) + 'xx')).toBe(true);
    expect(isValidId('€'.repeat(43))).toBe(false);
    expect(isValidId('😀'.repeat(32))).toBe(true);
    expect(isValidId('😀'.repeat(32) + 'x')).toBe(false);
  });

  it('rejects empty ids, non-strings and control characters', () => {
    for (const id of ['', 'a\nb', 'a\u0000', 'tab\t', 'del\u007f', 1, null, undefined, 1n])
      expect(isValidId(id)).toBe(false);
  });

  it('measures UTF-8 length like Buffer.byteLength', () => {
    for (const text of ['', 'abc', 'é', '€', '😀', 'a€😀é'])
      expect(utf8Length(text)).toBe(new TextEncoder().encode(text).length);
  });
});

describe('currency codes', () => {
  it('accepts 1 to 12 characters of A-Z, 0-9 and _', () => {
    for (const currency of ['USD', 'X', 'USDC_ETH', 'A'.repeat(12), 'BTC8'])
      expect(isValidCurrency(currency)).toBe(true);
  });

  it('rejects lowercase, empty, too long and other characters', () => {
    for (const currency of ['usd', '', 'A'.repeat(13), 'US D', 'US-D', 'ÜSD', 3, null])
      expect(isValidCurrency(currency)).toBe(false);
  });
});

describe('metadata', () => {
  it('accepts null, absent and flat string objects, frozen with sorted keys', () => {
    expect(parseMetadata(undefined)).toBeNull();
    expect(parseMetadata(null)).toBeNull();
    const parsed = parseMetadata({ z: '1', a: '2' });
    expect(parsed).toEqual({ a: '2', z: '1' });
    expect(Object.keys(parsed ?? {})).toEqual(['a', 'z']);
    expect(Object.isFrozen(parsed)).toBe(true);
    expect(parseMetadata(Object.assign(Object.create(null) as object, { k: 'v' }))).toEqual({
      k: 'v',
    });
  });

  it('accepts exactly metadataKeysMax keys and the largest key and value sizes', () => {
    const many = Object.fromEntries(
      Array.from({ length: limits.metadataKeysMax }, (_, index) => [`k${index}`, 'v']),
    );
    expect(parseMetadata(many)).not.toBeUndefined();
    expect(
      parseMetadata({
        ['k'.repeat(limits.metadataKeySizeBytesMax)]: 'v'.repeat(limits.metadataValueSizeBytesMax),
      }),
    ).not.toBeUndefined();
  });

  it('rejects arrays, class instances, non-string values, empty keys and oversize keys or values', () => {
    const tooMany = Object.fromEntries(
      Array.from({ length: limits.metadataKeysMax + 1 }, (_, index) => [`k${index}`, 'v']),
    );
    const bad: unknown[] = [
      'text',
      ['a'],
      new Map([['k', 'v']]),
      new Date(0),
      { k: 1 },
      { k: null },
      { k: { nested: 'x' } },
      { '': 'v' },
      tooMany,
      { ['k'.repeat(limits.metadataKeySizeBytesMax + 1)]: 'v' },
      { k: 'v'.repeat(limits.metadataValueSizeBytesMax + 1) },
    ];
    for (const metadata of bad) expect(parseMetadata(metadata)).toBeUndefined();
  });

  it('rejects a __proto__ key, which a plain copy would drop and msgpack would rename', () => {
    const parsed = parseMetadata(JSON.parse('{"__proto__":"x","a":"b"}'));
    expect(parsed).toBeUndefined();
  });

  it('compares metadata by keys and values', () => {
    expect(metadataEqual(null, null)).toBe(true);
    expect(metadataEqual({ a: '1' }, null)).toBe(false);
    expect(metadataEqual({ a: '1', b: '2' }, { b: '2', a: '1' })).toBe(true);
    expect(metadataEqual({ a: '1' }, { a: '2' })).toBe(false);
    expect(metadataEqual({ a: '1' }, { a: '1', b: '2' })).toBe(false);
  });
});

describe('parseAccount', () => {
  it('builds an account spec with the flag bits', () => {
    expect(parseAccount({ id: 'a', currency: 'USD' })).toEqual({
      ok: true,
      value: { id: 'a', currency: 'USD', scale: 2, flags: 0, metadata: null },
    });
    expect(
      parseAccount({ id: 'a', currency: 'USD', debitsMustNotExceedCredits: true }),
    ).toMatchObject({ value: { flags: 1 } });
    expect(
      parseAccount({ id: 'a', currency: 'USD', creditsMustNotExceedDebits: true }),
    ).toMatchObject({ value: { flags: 2 } });
    expect(
      parseAccount({ id: 'a', currency: 'USD', debitsMustNotExceedCredits: false }),
    ).toMatchObject({ value: { flags: 0 } });
  });

  it('rejects an invalid id with INVALID_ID', () => {
    for (const input of [
      null,
      'a',
      { currency: 'USD' },
      { id: '', currency: 'USD' },
      { id: 'x'.repeat(129), currency: 'USD' },
    ]) {
      expect(codeOf(parseAccount(input))).toBe('INVALID_ID');
    }
  });

  it('rejects an invalid currency with INVALID_CURRENCY', () => {
    expect(codeOf(parseAccount({ id: 'a', currency: 'usd' }))).toBe('INVALID_CURRENCY');
    expect(codeOf(parseAccount({ id: 'a' }))).toBe('INVALID_CURRENCY');
  });

  it('rejects both flags at once, or a flag that is not a boolean, with INVALID_FLAGS', () => {
    const inputs = [
      {
        id: 'a',
        currency: 'USD',
        debitsMustNotExceedCredits: true,
        creditsMustNotExceedDebits: true,
      },
      { id: 'a', currency: 'USD', debitsMustNotExceedCredits: 1 },
      { id: 'a', currency: 'USD', creditsMustNotExceedDebits: 'yes' },
    ];
    for (const input of inputs) expect(codeOf(parseAccount(input))).toBe('INVALID_FLAGS');
  });

  it('rejects bad metadata with INVALID_METADATA', () => {
    expect(codeOf(parseAccount({ id: 'a', currency: 'USD', metadata: { k: 1 } }))).toBe(
      'INVALID_METADATA',
    );
  });
});

describe('parseTransfer', () => {
  it('builds a transfer spec, converting number and string amounts to bigint', () => {
    expect(parseTransfer({ ...base, amount: 12 })).toMatchObject({
      ok: true,
      value: { amount: 12n, pending: false, timeoutMs: 0, metadata: null },
    });
    expect(parseTransfer({ ...base, amount: '12' })).toMatchObject({
      ok: true,
      value: { amount: 12n },
    });
    expect(parseTransfer({ ...base, pending: true, timeoutMs: 500 })).toMatchObject({
      ok: true,
      value: { pending: true, timeoutMs: 500 },
    });
  });

  it('rejects a bad transfer, debit or credit account id with INVALID_ID', () => {
    for (const field of ['id', 'debitAccountId', 'creditAccountId']) {
      expect(codeOf(parseTransfer({ ...base, [field]: '' }))).toBe('INVALID_ID');
    }
    expect(codeOf(parseTransfer(null))).toBe('INVALID_ID');
  });

  it('rejects a bad amount with INVALID_AMOUNT', () => {
    for (const amount of [0, -5, 1.5, '12.5', '1e3', '', AMOUNT_MAX + 1n, undefined]) {
      expect(codeOf(parseTransfer({ ...base, amount }))).toBe('INVALID_AMOUNT');
    }
  });

  it('rejects a bad currency with INVALID_CURRENCY', () => {
    expect(codeOf(parseTransfer({ ...base, currency: 'us$' }))).toBe('INVALID_CURRENCY');
  });

  it('rejects a bad timeout, a timeout on a single-phase transfer, or a non-boolean pending with INVALID_TIMEOUT', () => {
    const inputs = [
      { ...base, pending: true, timeoutMs: -1 },
      { ...base, pending: true, timeoutMs: 1.5 },
      { ...base, pending: true, timeoutMs: '10' },
      { ...base, pending: true, timeoutMs: limits.timeoutMsMax + 1 },
      { ...base, timeoutMs: 10 },
      { ...base, pending: 'yes' },
    ];
    for (const input of inputs) expect(codeOf(parseTransfer(input))).toBe('INVALID_TIMEOUT');
    expect(codeOf(parseTransfer({ ...base, pending: true, timeoutMs: limits.timeoutMsMax }))).toBe(
      'ok',
    );
  });

  it('rejects bad metadata with INVALID_METADATA', () => {
    expect(codeOf(parseTransfer({ ...base, metadata: ['x'] }))).toBe('INVALID_METADATA');
  });
});

describe('parseResolution', () => {
  it('builds a post with or without an amount and a void without one', () => {
    expect(parseResolution({ id: 'x', pendingId: 'p' }, true)).toEqual({
      ok: true,
      value: { id: 'x', pendingId: 'p', amount: null, metadata: null },
    });
    expect(parseResolution({ id: 'x', pendingId: 'p', amount: '7' }, true)).toMatchObject({
      value: { amount: 7n },
    });
  });

  it('rejects bad ids, amounts, a void with an amount, and bad metadata', () => {
    expect(codeOf(parseResolution({ id: '', pendingId: 'p' }, true))).toBe('INVALID_ID');
    expect(codeOf(parseResolution({ id: 'x', pendingId: '' }, true))).toBe('INVALID_ID');
    expect(codeOf(parseResolution(undefined, true))).toBe('INVALID_ID');
    expect(codeOf(parseResolution({ id: 'x', pendingId: 'p', amount: 0 }, true))).toBe(
      'INVALID_AMOUNT',
    );
    expect(codeOf(parseResolution({ id: 'x', pendingId: 'p', amount: 5n }, false))).toBe(
      'INVALID_AMOUNT',
    );
    expect(codeOf(parseResolution({ id: 'x', pendingId: 'p', metadata: { k: 5 } }, true))).toBe(
      'INVALID_METADATA',
    );
  });
});
