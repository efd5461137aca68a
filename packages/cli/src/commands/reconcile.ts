// `shardledger reconcile FILE --profile NAME [--from T] [--to T] [--json]`: reconciles a PSP
// settlement file against the ledger's clearing accounts (@shardledger/reconciliation). Prints a
// summary (or the report as JSON, or as CSV/Markdown to a file), records the run next to the data
// dir, and exits 0 when the file and the ledger agree, 1 when breaks or bad lines were found,
// 2 when the file is refused (missing, empty, another profile's).

import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import {
  breakTypes,
  builtInProfiles,
  formatReport,
  reconcile,
  reconcileLedgerOptions,
  reportFormats,
  resolveBreaks,
  type ReconcileOptions,
  type Report,
  type ReportFormat,
} from '@shardledger/reconciliation';
import {
  examples,
  parseCount,
  print,
  printJson,
  withDirOption,
  withJsonOption,
  withLedger,
  type CommonOptions,
} from '../context.js';
import { CliError, usageError } from '../errors.js';
import { formatTable } from '../format.js';
import { parseTime } from './statement.js';

interface ReconcileCliOptions extends CommonOptions {
  readonly profile: string;
  readonly from?: string;
  readonly to?: string;
  readonly workDir?: string;
  readonly referenceKey: string;
  readonly clearingSide: 'debit' | 'credit';
  readonly amountBasis: 'gross' | 'net';
  readonly threads: string;
  readonly autoResolve: boolean;
  readonly resolve?: string[];
  readonly out?: string;
  readonly format: ReportFormat;
}

function msOf(text: string | undefined, what: string): { ms?: number } {
  if (text === undefined) return {};
  return { ms: Number(parseTime(text, what) / 1_000_000n) };
}

function summary(report: Report): string {
  const { settlement, ledger } = report;
  const open = report.breaks.filter((found) => found.status === 'open').length;
  const lines = [
    `run ${report.runId}: ${settlement.lines} lines (${settlement.badLines} bad), ${ledger.transfers} ledger transfers, ${report.linesMatched} lines matched`,
    `breaks: ${report.breaks.length} (${open} open): ${breakTypes.map((type) => `${type} ${report.breakCounts[type]}`).join(', ')}`,
  ];
  if (report.breaks.length > 0) {
    lines.push(
      formatTable(
        [
          { header: 'break' },
          { header: 'type' },
          { header: 'cause' },
          { header: 'class' },
          { header: 'status' },
          { header: 'reference' },
          { header: 'lines' },
        ],
        report.breaks.map((found) => [
          found.id,
          found.type,
          found.cause,
          found.classification,
          found.status,
          found.reference,
          found.lines.join(' '),
        ]),
      ),
    );
  }
  for (const bad of settlement.badLineSamples.slice(0, 20))
    lines.push(`bad line ${bad.line}: ${bad.reason}`);
  for (const check of report.balances)
    lines.push(
      `balance ${check.currency}: ledger ${check.ledgerMovement}, file ${check.settlementTotal}, drift ${check.drift} (minor units)`,
    );
  return lines.join('\n');
}

function describeCommand(program: Command): Command {
  const profiles = builtInProfiles.map((profile) => profile.name);
  return program
    .command('reconcile')
    .description(
      'reconcile a PSP settlement file against the ledger; exits 1 on breaks or bad lines',
    )
    .argument('<file>', 'the settlement file')
    .addOption(
      new Option('--profile <name>', 'the file format').choices(profiles).makeOptionMandatory(),
    )
    .option('--from <time>', 'ledger transfers from this time, inclusive (ISO date or ns)')
    .option(
      '--to <time>',
      'ledger transfers before this time; the balance cut-off (ISO date or ns)',
    )
    .option('--work-dir <path>', 'where runs are recorded (default: <dir>.reconciliation)')
    .option(
      '--reference-key <key>',
      'the transfer metadata key holding the match reference',
      'payment_order_id',
    )
    .addOption(
      new Option('--clearing-side <side>', 'the clearing account side a capture debits')
        .choices(['debit', 'credit'])
        .default('debit'),
    )
    .addOption(
      new Option('--amount-basis <basis>', 'the settlement amount the ledger books')
        .choices(['gross', 'net'])
        .default('gross'),
    )
    .option('--threads <n>', 'match on a pool of this many threads', '1')
    .option('--auto-resolve', 'resolve the breaks auto-resolution rules can fix', false)
    .option('--resolve <break-id...>', 'resolve these breaks (adjusting transfers to suspense)')
    .option('--out <path>', 'also write the report to this file')
    .addOption(
      new Option('--format <format>', 'the format of --out')
        .choices(reportFormats)
        .default('markdown'),
    );
}

export function registerReconcile(program: Command): void {
  const command = describeCommand(program);
  withDirOption(command);
  withJsonOption(command);
  command.addHelpText(
    'after',
    examples([
      'shardledger reconcile settlement-2026-12-06.csv --profile simulated',
      'shardledger reconcile settlement.csv --profile simulated --from 2026-12-05 --to 2026-12-06 --json',
      'shardledger reconcile settlement.csv --profile simulated --auto-resolve --out report.md',
    ]),
  );
  command.action(async (file: string, options: ReconcileCliOptions) => {
    const from = msOf(options.from, '--from');
    const to = msOf(options.to, '--to');
    const threads = parseCount(options.threads, '--threads');
    const workDir = options.workDir ?? `${resolve(options.dir)}.reconciliation`;
    const at = { dir: options.dir, ...reconcileLedgerOptions };
    const report = await withLedger(at, async (ledger) => {
      const run: ReconcileOptions = {
        ledger,
        file,
        profile: options.profile,
        workDir,
        referenceKey: options.referenceKey,
        clearingSide: options.clearingSide,
        match: { amountBasis: options.amountBasis },
        threads,
        ...(from.ms === undefined ? {} : { fromMs: from.ms }),
        ...(to.ms === undefined ? {} : { toMs: to.ms }),
      };
      const first = (await reconcile(run)).report;
      if (!options.autoResolve && options.resolve === undefined) return first;
      const resolved = await resolveBreaks({
        ledger,
        workDir,
        report: first,
        ...(options.resolve === undefined ? { auto: true } : { breakIds: options.resolve }),
      });
      const refused = resolved.find(
        (result) => result.status === 'not_found' || result.status === 'rejected',
      );
      if (refused !== undefined)
        throw usageError(
          `break ${refused.breakId} was not resolved: ${refused.rejection ?? refused.status}`,
        );
      return (await reconcile(run)).report;
    });
    if (options.out !== undefined)
      await writeFile(options.out, formatReport(report, options.format));
    if (options.json) printJson(report);
    else print(summary(report));
    const open = report.breaks.filter((found) => found.status === 'open').length;
    if (open > 0 || report.settlement.badLines > 0) {
      throw new CliError({
        code: 'INVARIANT_VIOLATED',
        message: `the file and the ledger disagree: ${open} open break(s), ${report.settlement.badLines} bad line(s)`,
        hint: "resolve breaks with 'shardledger reconcile FILE --profile NAME --resolve <break-id>'",
      });
    }
  });
}
