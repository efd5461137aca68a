// Helpers of matching: ordering, break ids and shapes, classification, one-to-one pairing.
// Pure: no I/O, no clock.

import { createHash } from 'node:crypto';
import type { AutoRule, MatchOptions } from './match-options.js';
import type {
  Adjustment,
  Break,
  BreakClass,
  BreakType,
  LedgerEntry,
  MatchCounts,
  MatchKind,
  SettlementLine,
} from './types.js';

export const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
export const abs = (value: bigint): bigint => (value < 0n ? -value : value);
export const sum = (values: readonly bigint[]): bigint =>
  values.reduce((total, value) => total + value, 0n);

export function lineKey(line: SettlementLine): string {
  return [
    line.recordId,
    line.type,
    line.reference,
    line.currency,
    line.gross,
    line.fee,
    line.settledAtMs,
  ].join('|');
}

export function breakId(type: BreakType, parts: readonly string[]): string {
  return createHash('sha256')
    .update(`${type}\u0000${parts.join('\u0000')}`)
    .digest('hex')
    .slice(0, 24);
}

export function classify(
  type: BreakType,
  cause: string,
  difference: bigint,
  rules: readonly AutoRule[],
): BreakClass {
  const rule = rules.find(
    (candidate) =>
      candidate.type === type &&
      (candidate.cause === undefined || candidate.cause === cause) &&
      (candidate.amountMax === undefined || abs(difference) <= candidate.amountMax),
  );
  if (rule !== undefined) return 'auto';
  return type === 'missing_in_settlement' ? 'unclassified' : 'manual';
}

export interface BreakParts {
  readonly type: BreakType;
  readonly reference: string;
  readonly cause: string;
  readonly currency: string;
  readonly lines: readonly SettlementLine[];
  readonly entries: readonly LedgerEntry[];
  readonly settlementAmount: bigint;
  readonly ledgerAmount: bigint;
  readonly adjustments: readonly Adjustment[];
}

export function makeBreak(parts: BreakParts, options: MatchOptions): Break {
  const recordIds = parts.lines.map((line) => line.recordId);
  const transferIds = parts.entries.map((entry) => entry.transferId);
  const difference = parts.settlementAmount - parts.ledgerAmount;
  return {
    id: breakId(parts.type, [parts.reference, parts.currency, ...recordIds, '/', ...transferIds]),
    type: parts.type,
    reference: parts.reference,
    cause: parts.cause,
    classification: classify(parts.type, parts.cause, difference, options.autoRules),
    recordIds,
    lines: parts.lines.map((line) => line.line).sort((a, b) => a - b),
    transferIds,
    settlementAmount: parts.settlementAmount,
    ledgerAmount: parts.ledgerAmount,
    currency: parts.currency,
    adjustments: parts.adjustments,
  };
}

export function kindOf(lineCount: number, entryCount: number): MatchKind {
  if (lineCount === 1) return entryCount === 1 ? 'one_to_one' : 'one_to_many';
  return entryCount === 1 ? 'many_to_one' : 'many_to_many';
}

export interface Tally {
  matches: MatchCounts;
  linesMatched: number;
  transfersMatched: number;
}

export function withinDates(
  lines: readonly SettlementLine[],
  entries: readonly LedgerEntry[],
  toleranceMs: number,
): boolean {
  const times = entries.map((entry) => entry.timestampMs);
  const earliest = Math.min(...times) - toleranceMs;
  const latest = Math.max(...times) + toleranceMs;
  return lines.every((line) => line.settledAtMs >= earliest && line.settledAtMs <= latest);
}

/** Pairs lines with entries one to one; returns what is left on both sides. */
export function pairOneToOne(
  lines: readonly SettlementLine[],
  entries: readonly LedgerEntry[],
  options: MatchOptions,
  tally: Tally,
): { lines: SettlementLine[]; entries: LedgerEntry[] } {
  const taken = new Set<number>();
  const left: SettlementLine[] = [];
  const amountOf = (line: SettlementLine) =>
    options.amountBasis === 'gross' ? line.gross : line.net;
  for (const line of lines) {
    const fits = (entry: LedgerEntry, index: number, tolerance: bigint) =>
      !taken.has(index) &&
      abs(entry.amount - amountOf(line)) <= tolerance &&
      Math.abs(entry.timestampMs - line.settledAtMs) <= options.dateToleranceMs;
    let found = entries.findIndex((entry, index) => fits(entry, index, 0n));
    if (found === -1)
      found = entries.findIndex((entry, index) => fits(entry, index, options.amountTolerance));
    if (found === -1) left.push(line);
    else {
      taken.add(found);
      tally.matches.one_to_one += 1;
      tally.linesMatched += 1;
      tally.transfersMatched += 1;
    }
  }
  return { lines: left, entries: entries.filter((_entry, index) => !taken.has(index)) };
}
