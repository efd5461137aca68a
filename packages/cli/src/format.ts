// Amounts, times, tables and JSON for the terminal. Money stays bigint minor units end to end:
// major-unit text ("12.34") is parsed with string and bigint arithmetic only, never a float, and
// a value with more decimals than the currency has is refused rather than rounded.

import { CliError } from './errors.js';

/** Decimal places of the minor unit. Anything not listed has 2. */
export const currencyScales: Readonly<Record<string, number>> = {
  USD: 2,
  EUR: 2,
  GBP: 2,
  JPY: 0,
  BTC: 8,
  ETH: 18,
};
export const defaultScale = 2;

/** Largest amount the ledger accepts: 2^128 - 1 minor units. */
const amountMax = (1n << 128n) - 1n;

export function scaleOf(currency: string): number {
  return currencyScales[currency] ?? defaultScale;
}

const majorPattern = /^([0-9]+)(?:\.([0-9]+))?$/;
const minorPattern = /^[0-9]+$/;

function invalidAmount(text: string, why: string): CliError {
  return new CliError({ code: 'INVALID_AMOUNT', message: `amount '${text}' ${why}` });
}

/** Checks the shape of an amount before the currency (and so the scale) is known. */
export function checkAmountSyntax(text: string, options: { minor: boolean }): void {
  if (!(options.minor ? minorPattern : majorPattern).test(text)) {
    throw invalidAmount(
      text,
      options.minor ? 'is not a whole number of minor units' : 'is not a decimal number like 12.34',
    );
  }
}

/** Parses an amount typed by a person into minor units: "12.34" USD -> 1234n; with `minor`, the
 * text is already minor units ("1234"). Rejects signs, exponents, extra decimals, 0 and
 * > 2^128-1. */
export function parseAmountText(
  text: string,
  options: { currency: string; minor: boolean },
): bigint {
  checkAmountSyntax(text, options);
  let value: bigint;
  if (options.minor) {
    value = BigInt(text);
  } else {
    const match = majorPattern.exec(text);
    const whole = match?.[1] ?? '';
    const fraction = match?.[2] ?? '';
    const scale = scaleOf(options.currency);
    if (fraction.length > scale) {
      throw invalidAmount(
        text,
        `has ${fraction.length} decimals but ${options.currency} has ${scale}`,
      );
    }
    value = BigInt(whole) * 10n ** BigInt(scale) + BigInt(fraction.padEnd(scale, '0') || '0');
  }
  if (value === 0n) throw invalidAmount(text, 'must be greater than zero');
  if (value > amountMax)
    throw invalidAmount(text, 'exceeds the largest amount, 2^128-1 minor units');
  return value;
}

/** Minor units as major-unit text: 1234n USD -> "12.34"; -5n -> "-0.05". */
export function formatMajor(minor: bigint, currency: string): string {
  const scale = scaleOf(currency);
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString();
  if (scale === 0) return `${negative ? '-' : ''}${digits}`;
  const padded = digits.padStart(scale + 1, '0');
  const whole = padded.slice(0, padded.length - scale);
  return `${negative ? '-' : ''}${whole}.${padded.slice(padded.length - scale)}`;
}

/** An amount for a table: "12.34 USD", or "1234" minor units with --minor. */
export function formatAmount(minor: bigint, currency: string, options: { minor: boolean }): string {
  return options.minor ? minor.toString() : `${formatMajor(minor, currency)} ${currency}`;
}

/** Engine time (ns since the epoch) as ISO 8601 with millisecond precision. */
export function formatTimestamp(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString();
}

/** JSON with bigints as decimal strings (scripts never see a rounded number). */
export function toJson(value: unknown, indent = 2): string {
  return JSON.stringify(
    value,
    (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item),
    indent,
  );
}

export interface Column {
  readonly header: string;
  /** Right-align (numbers and amounts). */
  readonly right?: boolean;
}

/** A plain-text table: a header line, a rule, one line per row, columns padded to fit. */
export function formatTable(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
): string {
  const widths = columns.map((column, index) =>
    Math.max(column.header.length, ...rows.map((row) => (row[index] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    columns
      .map((column, index) => {
        const cell = cells[index] ?? '';
        const width = widths[index] ?? 0;
        return column.right === true ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [
    line(columns.map((column) => column.header)),
    line(widths.map((width) => '-'.repeat(width))),
    ...rows.map(line),
  ].join('\n');
}

/** `key value` lines for one record. */
export function formatFields(fields: readonly (readonly [string, string])[]): string {
  const width = Math.max(...fields.map(([key]) => key.length));
  return fields.map(([key, value]) => `${key.padEnd(width)}  ${value}`).join('\n');
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit] ?? 'TiB'}`;
}
