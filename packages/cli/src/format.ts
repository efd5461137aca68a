// Amounts, times, tables and JSON for the terminal. Money stays bigint minor units end to end:
// major-unit text ("12.34") is parsed and printed by ledger-core's parseAmount and formatAmount
// (string and bigint arithmetic only, never a float), at the scale the account recorded or the
// currency code names ('KWD' 3, 'KRW' 0, 'USDC/6' 6); a value with more decimals than that is
// refused rather than rounded.

import {
  formatAmount as formatDecimal,
  isLedgerError,
  parseAmount,
} from '@shardledger/ledger-core';
import { storedScaleOf } from '@shardledger/ledger-core/internals';
import { CliError } from './errors.js';

/** A currency and the scale its amounts are written with: an account, or money of a code. */
export interface Money {
  readonly currency: string;
  readonly scale: number;
}

/** The scale to print amounts of `currency` with when no account says it: the code's own ('USD'
 * 2, 'USDC/6' 6), or 0 for a plain code that names no ISO currency (accounts of older ledgers),
 * whose amounts are then shown as the whole minor units they are. */
export function moneyOf(currency: string): Money {
  return { currency, scale: storedScaleOf(currency) };
}

/** Largest amount the ledger accepts: 2^128 - 1 minor units. */
const amountMax = (1n << 128n) - 1n;

const majorPattern = /^[0-9]+(?:\.[0-9]+)?$/;
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

/** Parses an amount typed by a person into minor units at the scale of `money`: "12.34" USD ->
 * 1234n, "1.500" KWD -> 1500n, "1000" KRW -> 1000n; with `minor`, the text is already minor units
 * ("1234"). Rejects signs, exponents, extra decimals, 0 and > 2^128-1. */
export function parseAmountText(text: string, money: Money, options: { minor: boolean }): bigint {
  checkAmountSyntax(text, options);
  let value: bigint;
  try {
    value = parseAmount(text, options.minor ? 0 : money.scale);
  } catch (error) {
    if (isLedgerError(error, 'AMOUNT_TOO_PRECISE')) {
      const decimals = text.length - text.indexOf('.') - 1;
      throw new CliError({
        code: 'AMOUNT_TOO_PRECISE',
        message: `amount '${text}' has ${decimals} decimals but ${money.currency} has ${money.scale}`,
      });
    }
    if (isLedgerError(error, 'INVALID_AMOUNT'))
      throw invalidAmount(text, 'exceeds the largest amount, 2^128-1 minor units');
    throw error;
  }
  if (value === 0n) throw invalidAmount(text, 'must be greater than zero');
  if (value > amountMax)
    throw invalidAmount(text, 'exceeds the largest amount, 2^128-1 minor units');
  return value;
}

/** Minor units as major-unit text at the scale of `money`: 1234n USD -> "12.34"; -5n -> "-0.05". */
export function formatMajor(minor: bigint, money: Money): string {
  return formatDecimal(minor, money.scale);
}

/** An amount for a table: "12.34 USD", or "1234" minor units with --minor. */
export function formatAmount(minor: bigint, money: Money, options: { minor: boolean }): string {
  return options.minor ? minor.toString() : `${formatMajor(minor, money)} ${money.currency}`;
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
