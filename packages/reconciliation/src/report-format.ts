// A report as JSON (for scripts: bigints as decimal strings of minor units), CSV (one row per
// break, for a spreadsheet) and Markdown (for people: counts, balances, breaks).

import { formatAmount } from '@shardledger/shard-router';
import { reportJson } from './codec.js';
import type { Report } from './run-types.js';
import { breakTypes } from './types.js';

export const reportFormats = ['json', 'csv', 'markdown'] as const;
export type ReportFormat = (typeof reportFormats)[number];

export function formatReport(report: Report, format: ReportFormat): string {
  if (format === 'json') return `${reportJson(report)}\n`;
  if (format === 'csv') return reportCsv(report);
  return reportMarkdown(report);
}

/** A CSV cell: quoted when it holds a comma, a quote or a line break. */
function cell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

const csvHeader = [
  'break_id',
  'type',
  'cause',
  'classification',
  'status',
  'reference',
  'currency',
  'settlement_amount',
  'ledger_amount',
  'difference',
  'record_ids',
  'transfer_ids',
  'lines',
];

export function reportCsv(report: Report): string {
  const rows = report.breaks.map((found) =>
    [
      found.id,
      found.type,
      found.cause,
      found.classification,
      found.status,
      found.reference,
      found.currency,
      found.settlementAmount.toString(),
      found.ledgerAmount.toString(),
      (found.settlementAmount - found.ledgerAmount).toString(),
      found.recordIds.join(' '),
      found.transferIds.join(' '),
      found.lines.join(' '),
    ]
      .map(cell)
      .join(','),
  );
  return `${[csvHeader.join(','), ...rows].join('\n')}\n`;
}

/** Major units when the currency is one code the runtime knows, else minor units. */
function money(amount: bigint, currency: string): string {
  try {
    return `${formatAmount(amount, currency)} ${currency}`;
  } catch {
    return `${amount.toString()} (minor) ${currency}`;
  }
}

function escapeMarkdown(text: string): string {
  return text.replaceAll('|', '\\|');
}

export function reportMarkdown(report: Report): string {
  const { settlement, ledger } = report;
  const lines = [
    `# Reconciliation run ${report.runId}`,
    '',
    `- File: ${report.inputs.file} (${report.inputs.sizeBytes} bytes, profile ${report.inputs.profile})`,
    `- Lines: ${settlement.lines} read, ${settlement.validLines} valid, ${settlement.badLines} bad`,
    `- Ledger: ${ledger.transfers} transfers on ${ledger.clearingAccountIds.join(', ') || 'no account'} (${ledger.unreferencedTransfers} without a reference, ${ledger.adjustmentTransfers} adjustments)`,
    `- Matched: ${report.linesMatched} lines with ${report.transfersMatched} transfers (one-to-one ${report.matches.one_to_one}, one-to-many ${report.matches.one_to_many}, many-to-one ${report.matches.many_to_one}, many-to-many ${report.matches.many_to_many})`,
    `- Breaks: ${report.breaks.length} (${breakTypes.map((type) => `${type} ${report.breakCounts[type]}`).join(', ')})`,
    '',
    '## Balances',
    '',
    '| currency | clearing account | ledger movement | settlement total | drift |',
    '|---|---|---|---|---|',
    ...report.balances.map(
      (check) =>
        `| ${check.currency} | ${check.clearingAccountId} | ${money(check.ledgerMovement, check.currency)} | ${money(check.settlementTotal, check.currency)} | ${money(check.drift, check.currency)} |`,
    ),
    '',
    '## Breaks',
    '',
    '| break | type | cause | class | status | reference | settlement | ledger | lines |',
    '|---|---|---|---|---|---|---|---|---|',
    ...report.breaks.map(
      (found) =>
        `| ${found.id} | ${found.type} | ${escapeMarkdown(found.cause)} | ${found.classification} | ${found.status} | ${escapeMarkdown(found.reference)} | ${money(found.settlementAmount, found.currency)} | ${money(found.ledgerAmount, found.currency)} | ${found.lines.join(' ')} |`,
    ),
  ];
  if (settlement.badLines > 0) {
    lines.push('', '## Bad lines', '', '| line | reason |', '|---|---|');
    for (const bad of settlement.badLineSamples)
      lines.push(`| ${bad.line} | ${escapeMarkdown(bad.reason)} |`);
  }
  return `${lines.join('\n')}\n`;
}
