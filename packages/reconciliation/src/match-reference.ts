// Matching the lines and transfers of one reference (see match.ts for the steps). Pure.

import type { MatchOptions } from './match-options.js';
import {
  kindOf,
  makeBreak,
  pairOneToOne,
  sum,
  withinDates,
  type BreakParts,
  type Tally,
} from './match-helpers.js';
import type { Break, LedgerEntry, SettlementLine } from './types.js';

export interface MatchState {
  readonly options: MatchOptions;
  readonly breaks: Break[];
  readonly tally: Tally;
}

function settlementAmount(line: SettlementLine, options: MatchOptions): bigint {
  return options.amountBasis === 'gross' ? line.gross : line.net;
}

function currenciesOf(items: readonly { currency: string }[]): string[] {
  return [...new Set(items.map((item) => item.currency))].sort();
}

function add(state: MatchState, parts: Omit<BreakParts, 'adjustments'>): void {
  const difference = parts.settlementAmount - parts.ledgerAmount;
  const adjustments = difference === 0n ? [] : [{ currency: parts.currency, amount: difference }];
  state.breaks.push(makeBreak({ ...parts, adjustments }, state.options));
}

/** Lines and transfers that share no currency: one break, adjusting each currency apart. */
function currencyMismatch(
  reference: string,
  lines: readonly SettlementLine[],
  entries: readonly LedgerEntry[],
  state: MatchState,
): void {
  const settled = sum(lines.map((line) => settlementAmount(line, state.options)));
  const booked = sum(entries.map((entry) => entry.amount));
  const adjustments = [
    ...currenciesOf(lines).map((currency) => ({
      currency,
      amount: sum(
        lines.filter((l) => l.currency === currency).map((l) => settlementAmount(l, state.options)),
      ),
    })),
    ...currenciesOf(entries).map((currency) => ({
      currency,
      amount: -sum(entries.filter((e) => e.currency === currency).map((e) => e.amount)),
    })),
  ];
  const parts: BreakParts = {
    type: 'currency_mismatch',
    reference,
    cause: `${currenciesOf(lines).join('+')}/${currenciesOf(entries).join('+')}`,
    currency: currenciesOf(lines).join('+'),
    lines,
    entries,
    settlementAmount: settled,
    ledgerAmount: booked,
    adjustments,
  };
  state.breaks.push(makeBreak(parts, state.options));
}

/** Why the sums differ: by exactly the fees (booked on the other basis), or otherwise. */
function amountCause(
  lines: readonly SettlementLine[],
  booked: bigint,
  options: MatchOptions,
): string {
  const gross = sum(lines.map((line) => line.gross));
  const net = sum(lines.map((line) => line.net));
  if (options.amountBasis === 'net' && booked === gross) return 'fee_not_booked';
  if (options.amountBasis === 'gross' && booked === net) return 'fee_booked';
  return 'amount_differs';
}

function oneSide(
  reference: string,
  currency: string,
  lines: readonly SettlementLine[],
  entries: readonly LedgerEntry[],
  dead: readonly LedgerEntry[],
  state: MatchState,
): void {
  const { options } = state;
  if (lines.length > 0 && dead.length > 0) {
    add(state, {
      type: 'status_mismatch',
      reference,
      cause: dead.some((entry) => entry.state === 'voided') ? 'voided' : 'pending',
      currency,
      lines,
      entries: dead,
      settlementAmount: sum(lines.map((line) => settlementAmount(line, options))),
      ledgerAmount: 0n,
    });
    return;
  }
  for (const line of lines) {
    add(state, {
      type: 'missing_in_ledger',
      reference,
      cause: line.type,
      currency,
      lines: [line],
      entries: [],
      settlementAmount: settlementAmount(line, options),
      ledgerAmount: 0n,
    });
  }
  for (const entry of entries) {
    add(state, {
      type: 'missing_in_settlement',
      reference,
      cause: 'not_settled',
      currency,
      lines: [],
      entries: [entry],
      settlementAmount: 0n,
      ledgerAmount: entry.amount,
    });
  }
}

function matchCurrency(
  reference: string,
  currency: string,
  lines: readonly SettlementLine[],
  entries: readonly LedgerEntry[],
  state: MatchState,
): void {
  const { options, tally } = state;
  const live = entries.filter((entry) => entry.state === 'posted');
  const dead = entries.filter((entry) => entry.state !== 'posted');
  const left = pairOneToOne(lines, live, options, tally);
  if (left.lines.length === 0 || left.entries.length === 0) {
    oneSide(reference, currency, left.lines, left.entries, dead, state);
    return;
  }
  const settled = sum(left.lines.map((line) => settlementAmount(line, options)));
  const booked = sum(left.entries.map((entry) => entry.amount));
  const close =
    settled - booked <= options.amountTolerance && booked - settled <= options.amountTolerance;
  if (!withinDates(left.lines, left.entries, options.dateToleranceMs)) {
    oneSide(reference, currency, left.lines, left.entries, [], state);
  } else if (close) {
    tally.matches[kindOf(left.lines.length, left.entries.length)] += 1;
    tally.linesMatched += left.lines.length;
    tally.transfersMatched += left.entries.length;
  } else {
    add(state, {
      type: 'amount_mismatch',
      reference,
      cause: amountCause(left.lines, booked, options),
      currency,
      lines: left.lines,
      entries: left.entries,
      settlementAmount: settled,
      ledgerAmount: booked,
    });
  }
}

/** The common case, without the allocations of the general one: one line, one posted transfer,
 * same currency, same amount, dates within the tolerance. Counts it and says so. */
function matchesPlainly(
  lines: readonly SettlementLine[],
  entries: readonly LedgerEntry[],
  state: MatchState,
): boolean {
  if (lines.length !== 1 || entries.length !== 1) return false;
  const line = lines[0]!;
  const entry = entries[0]!;
  if (entry.state !== 'posted' || entry.currency !== line.currency) return false;
  if (entry.amount !== settlementAmount(line, state.options)) return false;
  if (Math.abs(entry.timestampMs - line.settledAtMs) > state.options.dateToleranceMs) return false;
  state.tally.matches.one_to_one += 1;
  state.tally.linesMatched += 1;
  state.tally.transfersMatched += 1;
  return true;
}

/** Matches the lines and transfers of one reference, both sorted (lines by record id, transfers
 * by id), adding breaks and counts to `state`. */
export function matchReference(
  reference: string,
  lines: readonly SettlementLine[],
  entries: readonly LedgerEntry[],
  state: MatchState,
): void {
  if (matchesPlainly(lines, entries, state)) return;
  const lineCurrencies = currenciesOf(lines);
  const entryCurrencies = currenciesOf(entries.filter((entry) => entry.state === 'posted'));
  const shared = lineCurrencies.filter((currency) => entryCurrencies.includes(currency));
  if (lineCurrencies.length > 0 && entryCurrencies.length > 0 && shared.length === 0) {
    currencyMismatch(
      reference,
      lines,
      entries.filter((entry) => entry.state === 'posted'),
      state,
    );
    return;
  }
  const currencies = [...new Set([...lineCurrencies, ...currenciesOf(entries)])].sort();
  for (const currency of currencies) {
    matchCurrency(
      reference,
      currency,
      lines.filter((line) => line.currency === currency),
      entries.filter((entry) => entry.currency === currency),
      state,
    );
  }
}
