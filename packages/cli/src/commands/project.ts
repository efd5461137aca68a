// `shardledger project [--rebuild]`: brings the read model (a SQLite file of accounts, transfers
// and entries, see shard-router's read-model/) up to the ledger's logs, or rebuilds it from the
// first event, and prints its watermark, lag and totals per currency.

import { isLedgerError } from '@shardledger/shard-router';
import type { Command } from 'commander';
import {
  examples,
  parseCount,
  print,
  printJson,
  requireLedgerDir,
  withDirOption,
  withJsonOption,
  type CommonOptions,
} from '../context.js';
import { CliError } from '../errors.js';
import { formatFields, formatMajor, formatTable, moneyOf } from '../format.js';
import { withTicker } from '../progress.js';
import * as readModelApi from '@shardledger/shard-router';

/** shard-router's read-model API (ReadModel and its helpers), for the commands that query it. */
export async function loadReadModel(): Promise<typeof readModelApi> {
  return readModelApi;
}

interface ProjectOptions extends CommonOptions {
  readonly rebuild: boolean;
  readonly path?: string;
  readonly timeoutMs: string;
}

export const projectTimeoutMsDefault = 600_000;

/** Opens the ledger and its read model (not following: the CLI projects on demand). A dir held by a
 * running application (DIR_LOCKED) is reported with a hint: query the file with --no-catch-up. */
export async function openReadModel(options: {
  dir: string;
  path?: string | undefined;
}): Promise<readModelApi.ReadModel> {
  await requireLedgerDir(options.dir);
  const { ReadModel } = await loadReadModel();
  return ReadModel.open({
    dir: options.dir,
    ...(options.path === undefined ? {} : { path: options.path }),
    follow: false,
  }).catch((error: unknown) => {
    if (isLedgerError(error, 'DIR_LOCKED')) {
      throw new CliError({
        code: 'DIR_LOCKED',
        message: 'another process has the data dir open',
        hint: 'statement --no-catch-up reads the file as that process projected it',
      });
    }
    throw error;
  });
}

export function registerProject(program: Command): void {
  const command = program
    .command('project')
    .description(
      'bring the read model (SQLite: statements, search, balance history) up to date, or rebuild it',
    )
    .option('--rebuild', 'project every event again into a fresh file, then swap it in', false)
    .option('--path <file>', 'the read-model file (default <dir>/read-model.sqlite)')
    .option('--timeout-ms <ms>', 'give up after this long', String(projectTimeoutMsDefault));
  withDirOption(command);
  withJsonOption(command);
  command.addHelpText(
    'after',
    examples([
      'shardledger project',
      'shardledger project --rebuild',
      'shardledger project --json | jq .lag',
    ]),
  );
  command.action(runProject);
}

type ShardLag = Awaited<ReturnType<readModelApi.ReadModel['lag']>>;
type CurrencyTotals = ReturnType<readModelApi.ReadModel['currencyTotals']>['totals'];

/** What one catch-up or rebuild did, as printed. */
interface Projection {
  readonly elapsedMs: number;
  readonly lag: ShardLag;
  readonly totals: CurrencyTotals;
  readonly counts: Record<string, number>;
}

async function runProject(options: ProjectOptions): Promise<void> {
  const timeoutMs = parseCount(options.timeoutMs, '--timeout-ms');
  const model = await openReadModel({ dir: options.dir, path: options.path });
  try {
    const started = performance.now();
    const watermark = await project(model, options.rebuild, timeoutMs);
    const elapsedMs = Math.round(performance.now() - started);
    const lag = await model.lag();
    const { totals } = model.currencyTotals();
    const counts = model.db
      .prepare(
        'SELECT (SELECT count(*) FROM accounts) AS accounts, (SELECT count(*) FROM transfers) AS transfers, (SELECT count(*) FROM entries) AS entries',
      )
      .get() as Record<string, number>;
    if (options.json)
      return printJson({
        path: model.path,
        rebuilt: options.rebuild,
        elapsedMs,
        watermark,
        lag,
        counts,
        totals,
      });
    printProjection(model.path, options.rebuild, { elapsedMs, lag, totals, counts });
  } finally {
    await model.close();
  }
}

/** Catches the model up (or rebuilds it) with progress on stderr: events projected of the events
 * the logs held when it started. A timeout says how far it got and what running again does. */
async function project(
  model: readModelApi.ReadModel,
  rebuild: boolean,
  timeoutMs: number,
): Promise<readonly readModelApi.Watermark[]> {
  const info = await model.ledger.info();
  const total = info.shardInfo.reduce((sum, shard) => sum + shard.lastSequence, 0);
  const projected = (): number =>
    model.watermark().reduce((sum, mark) => sum + Math.min(mark.sequence, total), 0);
  const doing = rebuild ? 'rebuilding the read model' : 'projecting into the read model';
  try {
    return await withTicker(
      (elapsedS) =>
        `${doing}: ${projected().toLocaleString('en-US')} of ${total.toLocaleString('en-US')} events, ${elapsedS} s`,
      rebuild ? model.rebuild({ timeoutMs }) : model.catchUp({ timeoutMs }),
    );
  } catch (error) {
    if (!isLedgerError(error, 'TIMEOUT')) throw error;
    throw new CliError({
      code: 'TIMEOUT',
      message: `${doing} took longer than --timeout-ms ${timeoutMs} (${projected().toLocaleString('en-US')} of ${total.toLocaleString('en-US')} events projected)`,
      hint: rebuild
        ? 'a rebuild starts over from the first event each time: run it again with a larger --timeout-ms'
        : "what was projected is kept: run 'shardledger project' again to go on, or raise --timeout-ms",
    });
  }
}

/** The file and its counts, the lag per shard, and the totals per currency when there are any. */
function printProjection(path: string, rebuilt: boolean, projection: Projection): void {
  const { elapsedMs, lag, totals, counts } = projection;
  print(
    formatFields([
      ['file', path],
      [rebuilt ? 'rebuilt in' : 'caught up in', `${elapsedMs} ms`],
      ['accounts', String(counts['accounts'])],
      ['transfers', String(counts['transfers'])],
      ['entries', String(counts['entries'])],
    ]),
  );
  print(
    formatTable(
      [
        { header: 'shard', right: true },
        { header: 'projected seq', right: true },
        { header: 'ledger seq', right: true },
        { header: 'lag events', right: true },
      ],
      lag.map((shard) => [
        String(shard.shard),
        String(shard.projectedSequence),
        String(shard.ledgerSequence),
        String(shard.lagEvents),
      ]),
    ),
  );
  if (totals.length > 0) {
    print(
      formatTable(
        [
          { header: 'currency' },
          { header: 'debits posted', right: true },
          { header: 'credits posted', right: true },
          { header: 'debits pending', right: true },
          { header: 'credits pending', right: true },
        ],
        totals.map((row) => [
          row.currency,
          formatMajor(row.debitsPosted, moneyOf(row.currency)),
          formatMajor(row.creditsPosted, moneyOf(row.currency)),
          formatMajor(row.debitsPending, moneyOf(row.currency)),
          formatMajor(row.creditsPending, moneyOf(row.currency)),
        ]),
      ),
    );
  }
}
