// Amount text <-> minor units, exactly: a table of accepted and refused inputs per currency scale,
// and a round trip through formatMajor. Pure functions, no ledger.
import { describe, expect, it } from 'vitest';
import {
  formatAmount,
  formatMajor,
  formatTable,
  parseAmountText,
  scaleOf,
  toJson,
} from '../src/format.js';

const amountMax = (1n << 128n) - 1n;

describe('amounts', () => {
  it('parses major units in the scale of the currency', () => {
    expect(parseAmountText('12.34', { currency: 'USD', minor: false })).toBe(1234n);
    expect(parseAmountText('12.3', { currency: 'EUR', minor: false })).toBe(1230n);
    expect(parseAmountText('12', { currency: 'GBP', minor: false })).toBe(1200n);
    expect(parseAmountText('0.01', { currency: 'USD', minor: false })).toBe(1n);
    expect(parseAmountText('500', { currency: 'JPY', minor: false })).toBe(500n);
    expect(parseAmountText('0.00000001', { currency: 'BTC', minor: false })).toBe(1n);
    expect(parseAmountText('1.000000000000000001', { currency: 'ETH', minor: false })).toBe(
      10n ** 18n + 1n,
    );
    expect(parseAmountText('7.5', { currency: 'XYZ', minor: false })).toBe(750n);
  });

  it('parses minor units with --minor, up to 2^128-1', () => {
    expect(parseAmountText('1234', { currency: 'USD', minor: true })).toBe(1234n);
    expect(parseAmountText(amountMax.toString(), { currency: 'USD', minor: true })).toBe(amountMax);
  });

  it('refuses extra decimals, signs, exponents, separators, zero and overflow rather than rounding', () => {
    const refused: [string, string, boolean][] = [
      ['1.234', 'USD', false],
      ['1.5', 'JPY', false],
      ['-1', 'USD', false],
      ['+1', 'USD', false],
      ['1e3', 'USD', false],
      ['1,00', 'USD', false],
      ['1.', 'USD', false],
      ['.5', 'USD', false],
      [' 1', 'USD', false],
      ['0', 'USD', false],
      ['0.00', 'USD', false],
      ['12.34', 'USD', true],
      [(amountMax + 1n).toString(), 'USD', true],
      ['', 'USD', true],
    ];
    for (const [text, currency, minor] of refused) {
      expect(
        () => parseAmountText(text, { currency, minor }),
        `${text} ${currency} minor=${minor}`,
      ).toThrow(/INVALID_AMOUNT|amount/);
    }
  });

  it('formats minor units back to the same text, negatives included', () => {
    for (const [text, currency] of [
      ['12.34', 'USD'],
      ['0.01', 'USD'],
      ['500', 'JPY'],
      ['0.00000001', 'BTC'],
      ['1.000000000000000001', 'ETH'],
    ] as const) {
      expect(formatMajor(parseAmountText(text, { currency, minor: false }), currency)).toBe(text);
    }
    expect(formatMajor(-5n, 'USD')).toBe('-0.05');
    expect(formatMajor(0n, 'USD')).toBe('0.00');
    expect(formatAmount(-123456n, 'EUR', { minor: false })).toBe('-1234.56 EUR');
    expect(formatAmount(-123456n, 'EUR', { minor: true })).toBe('-123456');
    expect(scaleOf('ETH')).toBe(18);
  });
});

describe('output', () => {
  it('writes bigints as decimal strings in JSON', () => {
    expect(toJson({ amount: amountMax, small: 1n }, 0)).toBe(
      `{"amount":"${amountMax}","small":"1"}`,
    );
  });

  it('pads table columns and right-aligns numbers', () => {
    const table = formatTable(
      [{ header: 'id' }, { header: 'amount', right: true }],
      [
        ['a', '1.00 USD'],
        ['long-id', '100.00 USD'],
      ],
    );
    expect(table.split('\n')).toEqual([
      'id           amount',
      '-------  ----------',
      'a          1.00 USD',
      'long-id  100.00 USD',
    ]);
  });
});
