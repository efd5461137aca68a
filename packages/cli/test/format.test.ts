// Amount text <-> minor units, exactly: a table of accepted and refused inputs per currency scale
// (ISO 4217 from Intl, CODE/SCALE for other assets), and a round trip through formatMajor. Pure
// functions, no ledger.
import { describe, expect, it } from 'vitest';
import {
  formatAmount,
  formatMajor,
  formatTable,
  moneyOf,
  parseAmountText,
  toJson,
} from '../src/format.js';

const amountMax = (1n << 128n) - 1n;
const major = { minor: false };
const minor = { minor: true };
/** Amount text in `code` (its scale from the code, as for an account of that currency). */
const parse = (text: string, code: string, options = major): bigint =>
  parseAmountText(text, moneyOf(code), options);

describe('amounts', () => {
  it('parses major units in the scale of the currency', () => {
    expect(parse('12.34', 'USD')).toBe(1234n);
    expect(parse('12.3', 'EUR')).toBe(1230n);
    expect(parse('12', 'GBP')).toBe(1200n);
    expect(parse('0.01', 'USD')).toBe(1n);
    expect(parse('500', 'JPY')).toBe(500n);
    expect(parse('1000', 'KRW')).toBe(1000n);
    expect(parse('1.500', 'KWD')).toBe(1500n);
    expect(parse('0.00000001', 'BTC/8')).toBe(1n);
    expect(parse('1.000000000000000001', 'ETH/18')).toBe(10n ** 18n + 1n);
    expect(parse('7.5', 'PTS/1')).toBe(75n);
    // An account's recorded scale wins over the code's.
    expect(parseAmountText('7.5', { currency: 'GOLD', scale: 3 }, major)).toBe(7500n);
  });

  it('parses minor units with --minor, up to 2^128-1', () => {
    expect(parse('1234', 'USD', minor)).toBe(1234n);
    expect(parse(amountMax.toString(), 'USD', minor)).toBe(amountMax);
  });

  it('refuses extra decimals, signs, exponents, separators, zero and overflow rather than rounding', () => {
    const refused: [string, string, boolean, string][] = [
      ['1.234', 'USD', false, 'AMOUNT_TOO_PRECISE'],
      ['1.5', 'JPY', false, 'AMOUNT_TOO_PRECISE'],
      ['1.5', 'KRW', false, 'AMOUNT_TOO_PRECISE'],
      ['1.5001', 'KWD', false, 'AMOUNT_TOO_PRECISE'],
      ['-1', 'USD', false, 'INVALID_AMOUNT'],
      ['+1', 'USD', false, 'INVALID_AMOUNT'],
      ['1e3', 'USD', false, 'INVALID_AMOUNT'],
      ['1,00', 'USD', false, 'INVALID_AMOUNT'],
      ['1.', 'USD', false, 'INVALID_AMOUNT'],
      ['.5', 'USD', false, 'INVALID_AMOUNT'],
      [' 1', 'USD', false, 'INVALID_AMOUNT'],
      ['0', 'USD', false, 'INVALID_AMOUNT'],
      ['0.00', 'USD', false, 'INVALID_AMOUNT'],
      [`${amountMax}`, 'USD', false, 'INVALID_AMOUNT'],
      ['12.34', 'USD', true, 'INVALID_AMOUNT'],
      [(amountMax + 1n).toString(), 'USD', true, 'INVALID_AMOUNT'],
      ['', 'USD', true, 'INVALID_AMOUNT'],
    ];
    for (const [text, currency, minorUnits, code] of refused) {
      let thrown: unknown;
      try {
        parse(text, currency, { minor: minorUnits });
      } catch (error) {
        thrown = error;
      }
      expect((thrown as { code?: string }).code, `${text} ${currency} minor=${minorUnits}`).toBe(
        code,
      );
    }
  });

  it('formats minor units back to the same text, negatives included', () => {
    for (const [text, currency] of [
      ['12.34', 'USD'],
      ['0.01', 'USD'],
      ['500', 'JPY'],
      ['1.500', 'KWD'],
      ['0.00000001', 'BTC/8'],
      ['1.000000000000000001', 'ETH/18'],
    ] as const) {
      expect(formatMajor(parse(text, currency), moneyOf(currency))).toBe(text);
    }
    expect(formatMajor(-5n, moneyOf('USD'))).toBe('-0.05');
    expect(formatMajor(0n, moneyOf('USD'))).toBe('0.00');
    expect(formatAmount(-123456n, moneyOf('EUR'), major)).toBe('-1234.56 EUR');
    expect(formatAmount(-123456n, moneyOf('EUR'), minor)).toBe('-123456');
    expect(formatAmount(1500n, moneyOf('KWD'), major)).toBe('1.500 KWD');
  });

  it('shows amounts of a plain code that names no ISO currency as whole minor units', () => {
    expect(moneyOf('GOLD')).toEqual({ currency: 'GOLD', scale: 0 });
    expect(formatAmount(750n, moneyOf('GOLD'), major)).toBe('750 GOLD');
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
