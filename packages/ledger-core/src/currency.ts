// Currencies and their scales, and exact decimal text for amounts of minor units.
//
// A currency code names how many decimal places its minor unit has (its scale):
// - an ISO 4217 code ('USD', 'KWD', 'KRW') has the scale ISO gives it, read from the runtime's
//   Intl data (ICU) once and cached: USD 2, KWD 3, KRW 0;
// - any other asset carries its scale in its code, after a slash: 'USDC/6' is USDC counted in
//   millionths, 'PTS/0' whole points. The whole string is the code, so two accounts of one code
//   always share one scale, on every shard, with no registry to keep in step.
// A plain code that names no ISO currency ('USDC', 'PTS') is refused, never given a guessed scale.
//
// Amounts stay bigint minor units: parseAmount and formatAmount convert decimal text with string
// and bigint arithmetic only, and text finer than the scale is refused rather than rounded.

import { assert } from './assert.js';
import { LedgerError } from './errors.js';
import { AMOUNT_MAX, limits } from './limits.js';

/** A code and a scale: 'USD' or 'KWD' (ISO 4217), or any asset 'CODE/SCALE' such as 'USDC/6'. */
const codePattern = /^([A-Z0-9_]{1,12})(?:\/(0|[1-9][0-9]?))?$/;

let isoScales: Map<string, number> | null = null;

/** ISO 4217 codes the runtime knows, with their scales. Intl gives every well-formed code an
 * answer (two decimals for a code it has no data for), so only the codes it lists as supported
 * are taken as ISO currencies. */
function isoScaleTable(): Map<string, number> {
  if (isoScales !== null) return isoScales;
  const table = new Map<string, number>();
  for (const code of Intl.supportedValuesOf('currency')) {
    const digits = new Intl.NumberFormat('en', {
      style: 'currency',
      currency: code,
    }).resolvedOptions().maximumFractionDigits;
    assert(digits !== undefined, 'Intl resolves the fraction digits of a currency');
    assert(digits >= 0 && digits <= limits.currencyScaleMax, 'an ISO scale within the bound');
    table.set(code, digits);
  }
  isoScales = table;
  return table;
}

/** True when `code` is well formed: a plain code, or 'CODE/SCALE' with a scale in bounds. Says
 * nothing of whether a plain code is an ISO currency (scaleOfCode does). */
export function isCurrencyCode(code: unknown): code is string {
  if (typeof code !== 'string') return false;
  const match = codePattern.exec(code);
  if (match === null) return false;
  const declared = match[2];
  return declared === undefined || Number.parseInt(declared, 10) <= limits.currencyScaleMax;
}

/** The scale a currency code names, or why it names none: 'invalid' for a code of the wrong
 * shape (or a scale above limits.currencyScaleMax), 'unknown' for a plain code that is not an
 * ISO 4217 currency. Never throws; the boundary (account input) turns the reason into a
 * rejection. */
export function scaleOfCode(code: unknown): number | 'invalid' | 'unknown' {
  if (!isCurrencyCode(code)) return 'invalid';
  const slash = code.indexOf('/');
  if (slash >= 0) return Number.parseInt(code.slice(slash + 1), 10);
  return isoScaleTable().get(code) ?? 'unknown';
}

/** The scale of a currency code: `currencyScale('KWD')` is 3, `currencyScale('USDC/6')` 6.
 * Throws INVALID_CURRENCY for a malformed code and CURRENCY_UNKNOWN for a plain code that names
 * no ISO 4217 currency (declare its scale: 'PTS/0'). */
export function currencyScale(code: string): number {
  const scale = scaleOfCode(code);
  if (scale === 'invalid') throw new LedgerError('INVALID_CURRENCY', { currency: String(code) });
  if (scale === 'unknown') throw new LedgerError('CURRENCY_UNKNOWN', { currency: code });
  return scale;
}

/** The scale an account of `code` had before accounts recorded their scale: the code's own, or 0
 * for a plain code that names no ISO currency (its amounts read as the whole minor units they
 * always were). Only for accounts read back from older logs and snapshots. */
export function storedScaleOf(code: string): number {
  const scale = scaleOfCode(code);
  return typeof scale === 'number' ? scale : 0;
}

/** The scale of a unit argument: a currency code, or a scale itself. */
function unitScale(unit: string | number): number {
  if (typeof unit === 'string') return currencyScale(unit);
  if (!Number.isSafeInteger(unit) || unit < 0 || unit > limits.currencyScaleMax) {
    throw new LedgerError('INVALID_ARGUMENT', {
      problem: `a scale is an integer from 0 to ${limits.currencyScaleMax}`,
      scale: unit,
    });
  }
  return unit;
}

const decimalPattern = /^(-?)([0-9]+)(?:\.([0-9]+))?$/;

export interface ParseAmountOptions {
  /** Accept a leading '-' (a balance or an adjustment); by default an amount is unsigned. */
  readonly signed?: boolean;
}

/** Decimal text in major units -> bigint minor units, exactly: `parseAmount('1.500', 'KWD')` is
 * 1500n, `parseAmount('1000', 'KRW')` 1000n, `parseAmount('2.5', 6)` 2500000n. `unit` is a
 * currency code or a scale. The text is digits with an optional '.' and fraction digits (a '-'
 * first only with `signed`); no '+', exponent, spaces or separators. Throws INVALID_AMOUNT for
 * malformed text and for a magnitude above 2^128-1 minor units, AMOUNT_TOO_PRECISE for more
 * fraction digits than the scale (trailing zeros included: '1.500' USD is refused). */
export function parseAmount(
  text: string,
  unit: string | number,
  options: ParseAmountOptions = {},
): bigint {
  const scale = unitScale(unit);
  const match = typeof text === 'string' ? decimalPattern.exec(text) : null;
  if (match === null) throw invalidAmount(text, 'is not a decimal number like 12.34');
  const negative = match[1] === '-';
  if (negative && options.signed !== true)
    throw invalidAmount(text, 'has a sign; amounts are unsigned');
  const whole = match[2] as string;
  const fraction = match[3] ?? '';
  if (fraction.length > scale) {
    throw new LedgerError('AMOUNT_TOO_PRECISE', {
      amount: text,
      decimals: fraction.length,
      scale,
    });
  }
  // Leading zeros are read past, so their count is no bound on the size of the value.
  const magnitude = BigInt(whole) * 10n ** BigInt(scale) + BigInt(fraction.padEnd(scale, '0') || 0);
  if (magnitude > AMOUNT_MAX) throw invalidAmount(text, 'exceeds 2^128-1 minor units');
  return negative ? -magnitude : magnitude;
}

function invalidAmount(text: unknown, problem: string): LedgerError {
  return new LedgerError('INVALID_AMOUNT', { amount: String(text), problem });
}

/** Bigint minor units -> decimal text in major units with exactly `scale` fraction digits:
 * `formatAmount(1500n, 'KWD')` is '1.500', `formatAmount(-5n, 'USD')` '-0.05',
 * `formatAmount(1000n, 'KRW')` '1000'. `unit` is a currency code or a scale. parseAmount reads
 * the text back to the same bigint. */
export function formatAmount(amount: bigint, unit: string | number): string {
  const scale = unitScale(unit);
  if (typeof amount !== 'bigint')
    throw new LedgerError('INVALID_ARGUMENT', { problem: 'an amount is a bigint' });
  const negative = amount < 0n;
  const digits = (negative ? -amount : amount).toString();
  const sign = negative ? '-' : '';
  if (scale === 0) return `${sign}${digits}`;
  const padded = digits.padStart(scale + 1, '0');
  const point = padded.length - scale;
  return `${sign}${padded.slice(0, point)}.${padded.slice(point)}`;
}
