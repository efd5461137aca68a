// Building a run's report from its record, its bucket results and its balance checks.

import type { BucketResult } from './match.js';
import { readResolutions } from './resolutions.js';
import type { BalanceCheck, Report, ReportBreak, RunRecord } from './run-types.js';
import {
  breakClasses,
  breakTypes,
  emptyMatchCounts,
  matchKinds,
  type BreakClass,
  type BreakType,
} from './types.js';

export function buildReport(options: {
  record: RunRecord;
  results: readonly BucketResult[];
  balances: readonly BalanceCheck[];
  cutoffMs: number | null;
}): Report {
  const { record, results } = options;
  const matches = emptyMatchCounts();
  const breakCounts = Object.fromEntries(breakTypes.map((type) => [type, 0])) as Record<
    BreakType,
    number
  >;
  const classCounts = Object.fromEntries(breakClasses.map((kind) => [kind, 0])) as Record<
    BreakClass,
    number
  >;
  const breaks: ReportBreak[] = [];
  let linesMatched = 0;
  let transfersMatched = 0;
  for (const result of results) {
    for (const kind of matchKinds) matches[kind] += result.matches[kind];
    linesMatched += result.linesMatched;
    transfersMatched += result.transfersMatched;
    for (const found of result.breaks) {
      breakCounts[found.type] += 1;
      classCounts[found.classification] += 1;
      breaks.push({ ...found, status: 'open', resolutionTransferIds: [] });
    }
  }
  breaks.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    runId: record.runId,
    inputs: record.inputs,
    cutoffMs: options.cutoffMs,
    settlement: record.settlement!,
    ledger: record.ledger!,
    matches,
    linesMatched,
    transfersMatched,
    breakCounts,
    classCounts,
    breaks,
    balances: options.balances,
  };
}

/** The report with each break's status as recorded now. */
export async function refreshStatuses(workDir: string, report: Report): Promise<Report> {
  const resolutions = await readResolutions(workDir);
  return {
    ...report,
    breaks: report.breaks.map((found) => {
      const resolution = resolutions.get(found.id);
      return resolution === undefined
        ? { ...found, status: 'open', resolutionTransferIds: [] }
        : { ...found, status: 'resolved', resolutionTransferIds: resolution.transferIds };
    }),
  };
}
