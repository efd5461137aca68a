// The boundary: raw input from callers becomes validated specs, or a rejection code. Pure.
// Money enters here exactly once: `parseMinorUnits` accepts a bigint, a safe-integer number or a
// string of decimal digits, and rejects floats, negatives, zero and anything else.

import { isCurrencyCode, scaleOfCode } from '../currency.js';
import type { RejectionCode } from '../errors.js';
import { AMOUNT_MAX, limits } from '../limits.js';
import {
  accountFlags,
  type AccountSpec,
  type Metadata,
  type PendingResolutionSpec,
  type TransferSpec,
} from './types.js';

export interface AccountInput {
  readonly id: string;
  /** An ISO 4217 code ('USD', 'KWD'), whose scale ISO gives, or any other asset with its scale
   * after a slash ('USDC/6', 'PTS/0'); the account records the scale (currency.ts). */
  readonly currency: string;
  readonly debitsMustNotExceedCredits?: boolean | undefined;
  readonly creditsMustNotExceedDebits?: boolean | undefined;
  /** Index this account's postings for fast history and balance-as-of (costs two index writes
   * per transfer touching it). Without it those queries scan the log. */
  readonly history?: boolean | undefined;
  readonly metadata?: Readonly<Record<string, string>> | null | undefined;
}

export type AmountInput = bigint | number | string;

export interface TransferInput {
  readonly id: string;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly amount: AmountInput;
  readonly currency: string;
  /** Two-phase transfer: hold the amount as pending until posted or voided. */
  readonly pending?: boolean | undefined;
  /** Pending only: void automatically after this many milliseconds (0 or absent: never). */
  readonly timeoutMs?: number | undefined;
  readonly metadata?: Readonly<Record<string, string>> | null | undefined;
}

export interface PostPendingInput {
  readonly id: string;
  readonly pendingId: string;
  /** Post less than the pending amount; absent posts it all. */
  readonly amount?: AmountInput | undefined;
  readonly metadata?: Readonly<Record<string, string>> | null | undefined;
}

export interface VoidPendingInput {
  readonly id: string;
  readonly pendingId: string;
  readonly metadata?: Readonly<Record<string, string>> | null | undefined;
}

export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly code: RejectionCode; readonly detail: string };

/** A refused input: the rejection half of Parsed. */
export type Rejected = Extract<Parsed<never>, { readonly ok: false }>;

function reject(code: RejectionCode, detail: string): Rejected {
  return { ok: false, code, detail };
}

/** UTF-8 byte length without allocating (a lone surrogate counts as the 3 bytes of the U+FFFD it
 * would become; callers that store text refuse it first: see wellFormedUtf8Length). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let index = 0; index < text.length; index += 1) {
    const unit = text.charCodeAt(index);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && isLowSurrogate(text.charCodeAt(index + 1))) {
      bytes += 4;
      index += 1;
    } else bytes += 3;
  }
  return bytes;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

/** The UTF-8 byte length of `text` when it is well-formed UTF-16 (every surrogate in a pair), and
 * without C0 or C1 control characters or DEL when `controls` is false; else -1. A lone surrogate
 * is stored as U+FFFD (LMDB keys, msgpack), so two different strings would share one stored
 * form: one id could answer for another. */
export function wellFormedUtf8Length(text: string, controls: boolean): number {
  let bytes = 0;
  for (let index = 0; index < text.length; index += 1) {
    const unit = text.charCodeAt(index);
    if (unit < 0x80) {
      if (!controls && (unit < 0x20 || unit === 0x7f)) return -1;
      bytes += 1;
    } else if (unit < 0x800) {
      if (!controls && unit <= 0x9f) return -1;
      bytes += 2;
    } else if (unit < 0xd800 || unit > 0xdfff) bytes += 3;
    else if (unit <= 0xdbff && isLowSurrogate(text.charCodeAt(index + 1))) {
      bytes += 4;
      index += 1;
    } else return -1;
  }
  return bytes;
}

const printableAscii = /^[\x20-\x7e]+$/;

/** A non-empty string of at most limits.idSizeBytesMax UTF-8 bytes, well-formed (no lone
 * surrogate) and without control characters (C0, DEL, C1). Two valid ids are equal exactly when
 * their stored UTF-8 bytes are. */
export function isValidId(id: unknown): id is string {
  if (typeof id !== 'string' || id.length === 0) return false;
  // The hot path: printable ASCII, checked by one compiled pattern (about twice as fast as a
  // loop over the code units for a 36-character UUID).
  if (printableAscii.test(id)) return id.length <= limits.idSizeBytesMax;
  for (let index = 0; index < id.length; index += 1) {
    const unit = id.charCodeAt(index);
    if (unit < 0x20 || unit >= 0x7f) {
      if (unit < 0x80) return false;
      const bytes = wellFormedUtf8Length(id, false);
      return bytes > 0 && bytes <= limits.idSizeBytesMax;
    }
  }
  return id.length <= limits.idSizeBytesMax;
}

const knownCurrencies = new Set<string>();

/** A well-formed currency code (currency.ts): 'USD', or 'USDC/6' with its scale. */
export function isValidCurrency(currency: unknown): currency is string {
  if (typeof currency !== 'string') return false;
  if (knownCurrencies.has(currency)) return true;
  if (!isCurrencyCode(currency)) return false;
  if (knownCurrencies.size < 1_024) knownCurrencies.add(currency);
  return true;
}

const digitsPattern = /^[0-9]{1,40}$/;

/** Amount in minor units: 1 ..= 2^128-1. Returns null for anything else. */
export function parseMinorUnits(amount: unknown): bigint | null {
  let value: bigint;
  if (typeof amount === 'bigint') value = amount;
  else if (typeof amount === 'number') {
    if (!Number.isSafeInteger(amount)) return null;
    value = BigInt(amount);
  } else if (typeof amount === 'string') {
    if (!digitsPattern.test(amount)) return null;
    value = BigInt(amount);
  } else return null;
  if (value <= 0n || value > AMOUNT_MAX) return null;
  return value;
}

export function parseMetadata(metadata: unknown): Metadata | null | undefined {
  if (metadata === undefined || metadata === null) return null;
  if (typeof metadata !== 'object' || Array.isArray(metadata)) return undefined;
  if (
    Object.getPrototypeOf(metadata) !== Object.prototype &&
    Object.getPrototypeOf(metadata) !== null
  )
    return undefined;
  const keys = Object.keys(metadata);
  if (keys.length > limits.metadataKeysMax) return undefined;
  const copy: Record<string, string> = {};
  for (const key of keys.sort()) {
    const value = (metadata as Record<string, unknown>)[key];
    if (typeof value !== 'string') return undefined;
    // Stored as UTF-8 (msgpack): a lone surrogate would come back as U+FFFD on replay.
    const keyBytes = wellFormedUtf8Length(key, true);
    if (keyBytes <= 0 || keyBytes > limits.metadataKeySizeBytesMax) return undefined;
    // A plain copy silently drops '__proto__' and msgpackr renames it on decode, so a live
    // value and its replay would differ: refuse it.
    if (key === '__proto__') return undefined;
    const valueBytes = wellFormedUtf8Length(value, true);
    if (valueBytes < 0 || valueBytes > limits.metadataValueSizeBytesMax) return undefined;
    copy[key] = value;
  }
  return Object.freeze(copy);
}

export function parseAccount(input: unknown): Parsed<AccountSpec> {
  if (typeof input !== 'object' || input === null)
    return reject('INVALID_ID', 'account must be an object');
  const raw = input as Partial<Record<keyof AccountInput, unknown>>;
  if (!isValidId(raw.id)) return reject('INVALID_ID', 'account id');
  const scale = scaleOfCode(raw.currency);
  if (scale === 'invalid') return reject('INVALID_CURRENCY', String(raw.currency));
  if (scale === 'unknown') return reject('CURRENCY_UNKNOWN', String(raw.currency));
  const currency = raw.currency as string;
  const debitFlag = raw.debitsMustNotExceedCredits;
  const creditFlag = raw.creditsMustNotExceedDebits;
  if (debitFlag !== undefined && typeof debitFlag !== 'boolean')
    return reject('INVALID_FLAGS', 'debitsMustNotExceedCredits must be a boolean');
  if (creditFlag !== undefined && typeof creditFlag !== 'boolean')
    return reject('INVALID_FLAGS', 'creditsMustNotExceedDebits must be a boolean');
  if (debitFlag === true && creditFlag === true) return reject('INVALID_FLAGS', 'both flags set');
  if (raw.history !== undefined && typeof raw.history !== 'boolean')
    return reject('INVALID_FLAGS', 'history must be a boolean');
  const metadata = parseMetadata(raw.metadata);
  if (metadata === undefined) return reject('INVALID_METADATA', 'account metadata');
  let flags = 0;
  if (debitFlag === true) flags |= accountFlags.debitsMustNotExceedCredits;
  if (creditFlag === true) flags |= accountFlags.creditsMustNotExceedDebits;
  if (raw.history === true) flags |= accountFlags.history;
  return { ok: true, value: { id: raw.id, currency, scale, flags, metadata } };
}

/** True when `result` (of transferSpecOrRejection) is a rejection rather than a spec. */
export function isRejected(result: TransferSpec | Rejected): result is Rejected {
  return (result as { readonly ok?: unknown }).ok === false;
}

/** parseTransfer without the wrapper of an accepted spec: the hot path of createTransfers. With
 * `accountIdsValid` the caller vouches that both account ids passed isValidId (the router
 * remembers the ids it has seen valid), and they are not scanned again; nothing else changes. */
export function transferSpecOrRejection(
  input: unknown,
  accountIdsValid: boolean,
): TransferSpec | Rejected {
  if (typeof input !== 'object' || input === null)
    return reject('INVALID_ID', 'transfer must be an object');
  const raw = input as Partial<Record<keyof TransferInput, unknown>>;
  const id = raw.id;
  const debitAccountId = raw.debitAccountId;
  const creditAccountId = raw.creditAccountId;
  if (!isValidId(id)) return reject('INVALID_ID', 'transfer id');
  if (!accountIdsValid) {
    if (!isValidId(debitAccountId)) return reject('INVALID_ID', 'debitAccountId');
    if (!isValidId(creditAccountId)) return reject('INVALID_ID', 'creditAccountId');
  }
  const amount = parseMinorUnits(raw.amount);
  if (amount === null)
    return reject(
      'INVALID_AMOUNT',
      typeof raw.amount === 'bigint' ? raw.amount.toString() : String(raw.amount),
    );
  const currency = raw.currency;
  if (!isValidCurrency(currency)) return reject('INVALID_CURRENCY', String(currency));
  const pendingInput = raw.pending;
  if (pendingInput !== undefined && typeof pendingInput !== 'boolean')
    return reject('INVALID_TIMEOUT', 'pending must be a boolean');
  const pending = pendingInput === true;
  const timeoutMs = raw.timeoutMs ?? 0;
  if (
    typeof timeoutMs !== 'number' ||
    !Number.isSafeInteger(timeoutMs) ||
    timeoutMs < 0 ||
    timeoutMs > limits.timeoutMsMax
  ) {
    return reject('INVALID_TIMEOUT', String(timeoutMs));
  }
  if (timeoutMs > 0 && !pending)
    return reject('INVALID_TIMEOUT', 'timeoutMs is only for pending transfers');
  const metadataInput = raw.metadata;
  const metadata =
    metadataInput === undefined || metadataInput === null ? null : parseMetadata(metadataInput);
  if (metadata === undefined) return reject('INVALID_METADATA', 'transfer metadata');
  return {
    id,
    debitAccountId: debitAccountId as string,
    creditAccountId: creditAccountId as string,
    amount,
    currency,
    pending,
    timeoutMs,
    metadata,
  };
}

export function parseTransfer(input: unknown): Parsed<TransferSpec> {
  const result = transferSpecOrRejection(input, false);
  return isRejected(result) ? result : { ok: true, value: result };
}

export function parseResolution(
  input: unknown,
  allowAmount: boolean,
): Parsed<PendingResolutionSpec> {
  if (typeof input !== 'object' || input === null)
    return reject('INVALID_ID', 'input must be an object');
  const raw = input as Partial<Record<keyof PostPendingInput, unknown>>;
  if (!isValidId(raw.id)) return reject('INVALID_ID', 'id');
  if (!isValidId(raw.pendingId)) return reject('INVALID_ID', 'pendingId');
  let amount: bigint | null = null;
  if (raw.amount !== undefined) {
    if (!allowAmount) return reject('INVALID_AMOUNT', 'a void takes no amount');
    amount = parseMinorUnits(raw.amount);
    if (amount === null) return reject('INVALID_AMOUNT', String(raw.amount));
  }
  const metadata = parseMetadata(raw.metadata);
  if (metadata === undefined) return reject('INVALID_METADATA', 'metadata');
  return { ok: true, value: { id: raw.id, pendingId: raw.pendingId, amount, metadata } };
}

export function metadataEqual(left: Metadata | null, right: Metadata | null): boolean {
  if (left === right) return true;
  if (left === null || right === null) return false;
  const leftKeys = Object.keys(left);
  if (leftKeys.length !== Object.keys(right).length) return false;
  for (const key of leftKeys) if (left[key] !== right[key]) return false;
  return true;
}
