// Matching one bucket: the settlement lines and ledger entries of a set of references, compared
// reference by reference and currency by currency. Deterministic: both sides are sorted first, so
// the same lines in any order give the same matches and the same breaks. Pure: no I/O, no clock.
//
// Per reference and currency:
// 1. a line the PSP sent twice (one record id) is a `duplicate` and is matched once;
// 2. one-to-one: each line is paired with a live (posted) transfer of the same amount (exact
//    first, then within the tolerance) dated within the date tolerance;
// 3. what is left on both sides is compared as a group (one-to-many, many-to-one): equal sums
//    match, else an `amount_mismatch` (fee-aware: a difference of exactly the fees says why);
// 4. what is left on one side only is `missing_in_settlement`, or `missing_in_ledger`, or a
//    `status_mismatch` when the ledger holds the reference only voided or pending;
// 5. a reference whose lines and transfers share no currency is a `currency_mismatch`.

import type { MatchOptions } from './match-options.js';
import { compareText, lineKey, makeBreak, type Tally } from './match-helpers.js';
import { matchReference } from './match-reference.js';
import {
  emptyMatchCounts,
  type Break,
  type LedgerEntry,
  type MatchCounts,
  type SettlementLine,
} from './types.js';

export interface BucketResult {
  readonly breaks: Break[];
  readonly matches: MatchCounts;
  readonly linesMatched: number;
  readonly transfersMatched: number;
}

/** Removes lines repeated under one record id, reporting each record id once as a duplicate. */
function dropDuplicates(
  lines: SettlementLine[],
  options: MatchOptions,
  breaks: Break[],
): SettlementLine[] {
  const kept: SettlementLine[] = [];
  for (let at = 0; at < lines.length;) {
    let end = at + 1;
    while (end < lines.length && lines[end]!.recordId === lines[at]!.recordId) end += 1;
    const group = lines.slice(at, end);
    kept.push(group[0]!);
    if (group.length > 1) {
      const repeated = group.every((line) => lineKey(line) === lineKey(group[0]!));
      breaks.push({
        ...makeBreak(
          {
            type: 'duplicate',
            reference: group[0]!.reference,
            cause: repeated ? 'repeated' : 'conflicting',
            currency: group[0]!.currency,
            lines: [group[0]!],
            entries: [],
            settlementAmount: 0n,
            ledgerAmount: 0n,
            adjustments: [],
          },
          options,
        ),
        lines: group.map((line) => line.line).sort((a, b) => a - b),
      });
    }
    at = end;
  }
  return kept;
}

/** Matches one bucket. `lines` and `entries` may come in any order. */
export function matchBucket(
  lines: readonly SettlementLine[],
  entries: readonly LedgerEntry[],
  options: MatchOptions,
): BucketResult {
  const breaks: Break[] = [];
  const tally: Tally = { matches: emptyMatchCounts(), linesMatched: 0, transfersMatched: 0 };
  const sortedLines = [...lines].sort(
    (a, b) =>
      compareText(a.reference, b.reference) ||
      compareText(a.recordId, b.recordId) ||
      compareText(lineKey(a), lineKey(b)),
  );
  const unique = dropDuplicates(
    [...sortedLines].sort(
      (a, b) => compareText(a.recordId, b.recordId) || compareText(lineKey(a), lineKey(b)),
    ),
    options,
    breaks,
  ).sort((a, b) => compareText(a.reference, b.reference) || compareText(a.recordId, b.recordId));
  const sortedEntries = [...entries].sort(
    (a, b) => compareText(a.reference, b.reference) || compareText(a.transferId, b.transferId),
  );
  let lineAt = 0;
  let entryAt = 0;
  while (lineAt < unique.length || entryAt < sortedEntries.length) {
    const next = [unique[lineAt]?.reference, sortedEntries[entryAt]?.reference]
      .filter((reference): reference is string => reference !== undefined)
      .sort(compareText)[0]!;
    const lineEnd = endOf(unique, lineAt, next, (line) => line.reference);
    const entryEnd = endOf(sortedEntries, entryAt, next, (entry) => entry.reference);
    matchReference(next, unique.slice(lineAt, lineEnd), sortedEntries.slice(entryAt, entryEnd), {
      options,
      breaks,
      tally,
    });
    lineAt = lineEnd;
    entryAt = entryEnd;
  }
  breaks.sort((a, b) => compareText(a.id, b.id));
  return { breaks, ...tally };
}

function endOf<T>(
  items: readonly T[],
  start: number,
  reference: string,
  key: (item: T) => string,
): number {
  let end = start;
  while (end < items.length && key(items[end]!) === reference) end += 1;
  return end;
}
