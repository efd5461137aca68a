// Mapping profiles: how one PSP writes its settlement file. A profile names the file's format,
// its columns, how amounts are written (major or minor units, signed or signed by the line's
// type), how dates are written (and in which timezone when they carry none), and which amounts
// the file gives (gross, fee, net). The `simulated` profile is the simulated PSP's format.

import { LedgerError } from '@shardledger/shard-router';

export const fileFormats = ['csv', 'jsonl'] as const;
export type FileFormat = (typeof fileFormats)[number];

/** `major`: decimal text with exactly the currency's minor digits (12.34 USD, 1500 JPY);
 * `minor`: whole minor units (1234). */
export const amountUnits = ['major', 'minor'] as const;
export type AmountUnit = (typeof amountUnits)[number];

/** `signed`: the file writes money leaving the merchant as negative gross; `by_type`: the file
 * writes every amount positive and the line's type says the sign (`negativeTypes`). */
export const signModes = ['signed', 'by_type'] as const;
export type SignMode = (typeof signModes)[number];

/** `iso`: ISO 8601 with a `Z` or an offset; `local`: `YYYY-MM-DD HH:MM:SS` in the profile's
 * `utcOffsetMinutes`; `epoch_s` / `epoch_ms`: whole seconds or milliseconds since the epoch. */
export const dateFormats = ['iso', 'local', 'epoch_s', 'epoch_ms'] as const;
export type DateFormat = (typeof dateFormats)[number];

/** Which amounts a line carries: all three (checked: net = gross - fee), gross and fee (net is
 * derived), or net and fee (gross is derived). */
export const amountLayouts = ['gross_fee_net', 'gross_fee', 'net_fee'] as const;
export type AmountLayout = (typeof amountLayouts)[number];

/** Column names (CSV header names, or JSON keys) of each field. */
export interface ProfileColumns {
  readonly recordId: string;
  readonly type: string;
  readonly reference: string;
  readonly pspReference: string;
  readonly currency: string;
  readonly gross: string;
  readonly fee: string;
  readonly net: string;
  readonly settledAt: string;
}

export interface Profile {
  readonly name: string;
  readonly format: FileFormat;
  /** CSV only: the exact header, in order. A file whose header differs is another profile's. */
  readonly header: readonly string[];
  readonly columns: ProfileColumns;
  readonly amountUnit: AmountUnit;
  readonly sign: SignMode;
  /** With `sign: 'by_type'`: the types whose amounts leave the merchant. */
  readonly negativeTypes: readonly string[];
  /** The types a line may have; any other is a bad line. */
  readonly types: readonly string[];
  readonly dateFormat: DateFormat;
  /** With `dateFormat: 'local'`: the file's timezone as an offset from UTC, in minutes. */
  readonly utcOffsetMinutes: number;
  readonly amountLayout: AmountLayout;
}

const settlementTypes = ['capture', 'refund', 'payout', 'chargeback'] as const;

/** The simulated PSP: CSV, major units, signed gross, ISO dates in UTC, gross, fee and net. */
export const simulatedProfile: Profile = {
  name: 'simulated',
  format: 'csv',
  header: [
    'record_id',
    'type',
    'payment_order_id',
    'psp_reference',
    'currency',
    'gross',
    'fee',
    'net',
    'settled_at',
  ],
  columns: {
    recordId: 'record_id',
    type: 'type',
    reference: 'payment_order_id',
    pspReference: 'psp_reference',
    currency: 'currency',
    gross: 'gross',
    fee: 'fee',
    net: 'net',
    settledAt: 'settled_at',
  },
  amountUnit: 'major',
  sign: 'signed',
  negativeTypes: [],
  types: settlementTypes,
  dateFormat: 'iso',
  utcOffsetMinutes: 0,
  amountLayout: 'gross_fee_net',
};

/** A JSON Lines file in another common shape: minor units, unsigned amounts signed by type, epoch
 * seconds, gross and fee only. */
export const jsonLinesProfile: Profile = {
  name: 'jsonl-minor',
  format: 'jsonl',
  header: [],
  columns: {
    recordId: 'id',
    type: 'kind',
    reference: 'merchant_reference',
    pspReference: 'psp_id',
    currency: 'currency',
    gross: 'amount',
    fee: 'fee',
    net: 'net',
    settledAt: 'settled_at',
  },
  amountUnit: 'minor',
  sign: 'by_type',
  negativeTypes: ['refund', 'payout', 'chargeback'],
  types: settlementTypes,
  dateFormat: 'epoch_s',
  utcOffsetMinutes: 0,
  amountLayout: 'gross_fee',
};

export const builtInProfiles: readonly Profile[] = [simulatedProfile, jsonLinesProfile];

/** A built-in profile by name; an unknown name is INVALID_ARGUMENT listing the known ones. */
export function profileByName(name: string): Profile {
  const found = builtInProfiles.find((profile) => profile.name === name);
  if (found === undefined) {
    const known = builtInProfiles.map((profile) => profile.name).join(', ');
    throw new LedgerError(
      'INVALID_ARGUMENT',
      { reason: 'UNKNOWN_PROFILE', profile: name },
      `INVALID_ARGUMENT: no settlement profile is named '${name}' (known: ${known})`,
    );
  }
  return found;
}
