// The phases of a run that read inputs: the settlement file into its buckets (with totals and bad
// lines), and the ledger's clearing accounts into theirs.

import { open } from 'node:fs/promises';
import { BucketWriter, encodeEntry, encodeLine } from './buckets.js';
import { readLedger, type LedgerSourceOptions } from './ledger-source.js';
import type { Profile } from './profiles.js';
import type { BadLine, CurrencyTotals, LedgerSummary, SettlementSummary } from './run-types.js';
import { readSettlement } from './settlement-reader.js';

/** Bad lines kept in the report; the run's bad-lines.jsonl has every one. */
export const badLineSamplesMax = 1000;

export async function settlementPhase(options: {
  file: string;
  profile: Profile;
  dir: string;
  bucketCount: number;
  badLinesPath: string;
}): Promise<SettlementSummary> {
  const writer = new BucketWriter({
    dir: options.dir,
    side: 'settlement',
    bucketCount: options.bucketCount,
  });
  const badFile = await open(options.badLinesPath, 'w');
  const totals = new Map<string, { lines: number; gross: bigint; fee: bigint; net: bigint }>();
  const samples: BadLine[] = [];
  let lines = 0;
  let badLines = 0;
  let first: number | null = null;
  let last: number | null = null;
  try {
    await writer.create();
    for await (const batch of readSettlement(options.file, options.profile)) {
      const bad: BadLine[] = [];
      for (const item of batch) {
        lines += 1;
        if (item.kind === 'bad') {
          bad.push({ line: item.lineNumber, reason: item.reason });
          continue;
        }
        const { line } = item;
        writer.add(line.reference, encodeLine(line));
        let total = totals.get(line.currency);
        if (total === undefined) {
          total = { lines: 0, gross: 0n, fee: 0n, net: 0n };
          totals.set(line.currency, total);
        }
        total.lines += 1;
        total.gross += line.gross;
        total.fee += line.fee;
        total.net += line.net;
        first = first === null ? line.settledAtMs : Math.min(first, line.settledAtMs);
        last = last === null ? line.settledAtMs : Math.max(last, line.settledAtMs);
      }
      await writer.flushWhenFull();
      if (bad.length === 0) continue;
      badLines += bad.length;
      samples.push(...bad.slice(0, badLineSamplesMax - samples.length));
      await badFile.write(bad.map((item) => `${JSON.stringify(item)}\n`).join(''));
    }
  } finally {
    await writer.close();
    await badFile.close();
  }
  const currencyTotals: CurrencyTotals[] = [...totals.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([currency, total]) => ({ currency, ...total }));
  return {
    lines,
    validLines: lines - badLines,
    badLines,
    badLineSamples: samples,
    totals: currencyTotals,
    firstSettledAtMs: first,
    lastSettledAtMs: last,
  };
}

export async function ledgerPhase(
  options: LedgerSourceOptions & { dir: string; bucketCount: number },
): Promise<LedgerSummary> {
  const writer = new BucketWriter({
    dir: options.dir,
    side: 'ledger',
    bucketCount: options.bucketCount,
  });
  let transfers = 0;
  let unreferencedTransfers = 0;
  let adjustmentTransfers = 0;
  try {
    await writer.create();
    for await (const batch of readLedger(options)) {
      for (const item of batch) {
        transfers += 1;
        if (item.kind === 'unreferenced') unreferencedTransfers += 1;
        else if (item.kind === 'adjustment') adjustmentTransfers += 1;
        else writer.add(item.entry.reference, encodeEntry(item.entry));
      }
      await writer.flushWhenFull();
    }
  } finally {
    await writer.close();
  }
  return {
    clearingAccountIds: options.clearingAccountIds,
    transfers,
    unreferencedTransfers,
    adjustmentTransfers,
  };
}
