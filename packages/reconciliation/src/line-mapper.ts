// Turns one raw record of a settlement file (CSV cells by column name, or a JSON object's string
// values) into a SettlementLine through a profile, or into the reason it is a bad line. Amounts
// become bigint minor units by ledger-core's parseAmount (string arithmetic, never a float), dates
// become ms since the epoch in UTC.

import { currencyScale, isLedgerError, parseAmount } from '@shardledger/shard-router';
import type { Profile } from './profiles.js';
import type { SettlementLine } from './types.js';

/** A field of a raw record: its text, or undefined when the record lacks it. */
export type RawRecord = (column: string) => string | undefined;

export type Mapped =
  | { readonly ok: true; readonly line: SettlementLine }
  | { readonly ok: false; readonly reason: string };

const isoPattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;
const localPattern = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
const digitsPattern = /^[0-9]{1,15}$/;
const minorPattern = /^-?[0-9]+$/;
const currencyPattern = /^[A-Z][A-Z0-9_]{0,11}(?:\/[0-9]{1,2})?$/;

class BadLine extends Error {}

function fail(reason: string): never {
  throw new BadLine(reason);
}

function field(record: RawRecord, column: string, what: string): string {
  const value = record(column);
  if (value === undefined) fail(`${what}: column '${column}' is missing`);
  return value.trim();
}

export function parseDate(text: string, profile: Profile): number {
  let ms = Number.NaN;
  if (profile.dateFormat === 'iso') {
    if (isoPattern.test(text)) ms = Date.parse(text);
  } else if (profile.dateFormat === 'local') {
    const parts = localPattern.exec(text);
    if (parts !== null) {
      const [year, month, day, hour, minute, second] = parts.slice(1).map(Number) as number[];
      const utc = Date.UTC(year!, month! - 1, day!, hour, minute, second);
      const back = new Date(utc);
      // Date.UTC rolls 2026-02-30 over to March: a date that does not round-trip is not a date.
      if (back.getUTCDate() === day && back.getUTCMonth() === month! - 1)
        ms = utc - profile.utcOffsetMinutes * 60_000;
    }
  } else if (digitsPattern.test(text)) {
    ms = Number(text) * (profile.dateFormat === 'epoch_s' ? 1000 : 1);
  }
  if (!Number.isFinite(ms)) fail(`settled_at '${text}' is not a ${profile.dateFormat} date`);
  return ms;
}

/** Minor units of one amount cell; `signed` allows a leading '-'. */
export function parseMoney(text: string, currency: string, profile: Profile, what: string): bigint {
  if (profile.amountUnit === 'minor') {
    if (!minorPattern.test(text)) fail(`${what} '${text}' is not a whole number of minor units`);
    return BigInt(text);
  }
  const scale = scaleOf(currency);
  const dot = text.indexOf('.');
  const decimals = dot === -1 ? 0 : text.length - dot - 1;
  if (decimals !== scale)
    fail(`${what} '${text}' must have exactly ${scale} decimals for ${currency}`);
  try {
    return parseAmount(text, scale, { signed: true });
  } catch (error) {
    if (isLedgerError(error)) fail(`${what} '${text}' is not an amount (${error.code})`);
    throw error;
  }
}

/** Scales of the currencies seen so far: a file names a handful of currencies a million times. */
const knownScales = new Map<string, number>();
const knownScalesMax = 1024;

function scaleOf(currency: string): number {
  const known = knownScales.get(currency);
  if (known !== undefined) return known;
  if (!currencyPattern.test(currency)) fail(`currency '${currency}' is not a currency code`);
  let scale: number;
  try {
    scale = currencyScale(currency);
  } catch (error) {
    if (isLedgerError(error)) fail(`currency '${currency}' is unknown (${error.code})`);
    throw error;
  }
  if (knownScales.size < knownScalesMax) knownScales.set(currency, scale);
  return scale;
}

function checkCurrency(text: string): string {
  scaleOf(text);
  return text;
}

function amounts(
  record: RawRecord,
  profile: Profile,
  currency: string,
  type: string,
): { gross: bigint; fee: bigint; net: bigint } {
  const { columns } = profile;
  const money = (column: string, what: string) =>
    parseMoney(field(record, column, what), currency, profile, what);
  const fee = money(columns.fee, 'fee');
  if (fee < 0n) fail(`fee must not be negative`);
  let gross =
    profile.amountLayout === 'net_fee'
      ? money(columns.net, 'net') + fee
      : money(columns.gross, 'gross');
  if (profile.sign === 'by_type') {
    if (gross < 0n) fail(`gross must be unsigned in this profile`);
    if (profile.negativeTypes.includes(type)) gross = -gross;
  }
  const net = gross - fee;
  if (profile.amountLayout === 'gross_fee_net') {
    const written = money(columns.net, 'net');
    const expected = profile.sign === 'by_type' && gross < 0n ? -written : written;
    if (expected !== net) fail(`net ${written} is not gross - fee (${net})`);
  }
  return { gross, fee, net };
}

/** Maps a record; `line` is its 1-based line number in the file. */
export function mapRecord(record: RawRecord, profile: Profile, line: number): Mapped {
  const { columns } = profile;
  try {
    const recordId = field(record, columns.recordId, 'record_id');
    if (recordId === '') fail('record_id is empty');
    const type = field(record, columns.type, 'type');
    if (!profile.types.includes(type))
      fail(`type '${type}' is not one of ${profile.types.join(', ')}`);
    const reference = field(record, columns.reference, 'reference');
    if (reference === '') fail(`${columns.reference} is empty`);
    const pspReference = record(columns.pspReference)?.trim() ?? '';
    const currency = checkCurrency(field(record, columns.currency, 'currency'));
    const settledAtMs = parseDate(field(record, columns.settledAt, 'settled_at'), profile);
    const money = amounts(record, profile, currency, type);
    return {
      ok: true,
      line: { line, recordId, type, reference, pspReference, currency, ...money, settledAtMs },
    };
  } catch (error) {
    if (error instanceof BadLine) return { ok: false, reason: error.message };
    throw error;
  }
}
