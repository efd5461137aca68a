// `shardledger statement <account> [--from T] [--to T]`: an account's statement from the read
// model (opening and closing balance, debit and credit totals, entries with running balance),
// paginated; `--as-of T` prints the balance at a time; `--metadata key=value` lists transfers.
// Results say which events they reflect (the watermark): by default the read model is first
// brought up to date; with --no-catch-up the file is read as it is (the dir may be in use).

import type { Command } from 'commander';
import { limits, pageSizeDefault } from '@shardledger/shard-router';
import {
  examples,
  parseCount,
  print,
  printJson,
  withDirOption,
  withJsonOption,
  withMinorOption,
  type AmountOptions,
  type CommonOptions,
} from '../context.js';
import { CliError, usageError } from '../errors.js';
import { formatAmount, formatTable, formatTimestamp, moneyOf } from '../format.js';
import { loadReadModel, openReadModel } from './project.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type * as ReadModelApi from '@shardledger/shard-router';

interface StatementOptions extends CommonOptions, AmountOptions {
  readonly from?: string;
  readonly to?: string;
  readonly asOf?: string;
  readonly metadata?: string;
  readonly limit: string;
  readonly after?: string;
  readonly path?: string;
  readonly catchUp: boolean;
}

type Queries = Pick<
  ReadModelApi.ReadModelFile,
  'statement' | 'balanceAsOf' | 'transfersByMetadata' | 'lookupAccounts' | 'watermark'
>;

/** A time: ISO 8601 ("2026-01-31", "2026-01-31T12:00:00Z") or nanoseconds since the epoch. */
export function parseTime(text: string, what: string): bigint {
  if (/^[0-9]+$/.test(text)) return BigInt(text);
  const ms = Date.parse(text);
  if (Number.isNaN(ms))
    throw usageError(`${what} must be an ISO date or nanoseconds since the epoch, got '${text}'`);
  return BigInt(ms) * 1_000_000n;
}

function watermarkText(watermark: readonly { shard: number; sequence: number }[]): string {
  return `as of ${watermark.map((mark) => `shard ${mark.shard} #${mark.sequence}`).join(', ')}`;
}

export function registerStatement(program: Command): void {
  const command = program
    .command('statement')
    .description(
      "an account's statement from the read model: opening/closing balance, totals, entries",
    )
    .argument('[account]', 'account id')
    .option('--from <time>', 'start, inclusive (ISO date or ns)')
    .option('--to <time>', 'end, exclusive (ISO date or ns)')
    .option('--as-of <time>', 'only the balance at this time (inclusive)')
    .option(
      '--metadata <key=value>',
      'instead: transfers whose metadata has key=value (e.g. payment_order_id=PO-7)',
    )
    .option(
      '-n, --limit <n>',
      `entries per page, at most ${limits.pageSizeMax}`,
      String(pageSizeDefault),
    )
    .option('--after <cursor>', 'start after this cursor (the "next" of the previous page)')
    .option('--path <file>', 'the read-model file (default <dir>/read-model.sqlite)')
    .option(
      '--no-catch-up',
      'read the file as it is, without opening the ledger (works while it is in use)',
    );
  withDirOption(command);
  withJsonOption(command);
  withMinorOption(command);
  command.addHelpText(
    'after',
    examples([
      'shardledger statement alice --from 2026-01-01 --to 2026-02-01',
      'shardledger statement alice --as-of 2026-01-31T23:59:59Z',
      'shardledger statement --metadata payment_order_id=PO-7 --json',
      'shardledger statement alice --no-catch-up   # while the application runs',
    ]),
  );
  command.action(async (account: string | undefined, options: StatementOptions) => {
    const limit = parseCount(options.limit, '--limit');
    if (limit > limits.pageSizeMax)
      throw usageError(`--limit must be at most ${limits.pageSizeMax}`);
    if (options.metadata === undefined && account === undefined)
      throw usageError('name an account, or --metadata key=value');
    if (options.catchUp) {
      const model = await openReadModel({ dir: options.dir, path: options.path });
      try {
        await model.catchUp();
        report(model, account, options, limit);
      } finally {
        await model.close();
      }
    } else {
      const file = await openFileAsIs(options);
      try {
        report(file, account, options, limit);
      } finally {
        file.close();
      }
    }
  });
}

/** The read-model file as it is (--no-catch-up). SQLite reports a missing file as an unexpected
 * error: say what is missing instead. */
async function openFileAsIs(options: StatementOptions): Promise<ReadModelApi.ReadModelFile> {
  const { openReadModelFile, readModelFileName } = await loadReadModel();
  const path = options.path ?? join(options.dir, readModelFileName);
  if (!existsSync(path)) {
    throw new CliError({
      code: 'READ_MODEL_NOT_FOUND',
      message: `no read-model file at ${path}`,
      hint: `create it with 'shardledger project', or name it with --path`,
    });
  }
  return openReadModelFile({ path });
}

/** One of the three reports: transfers by metadata, a balance as of a time, or a statement. */
function report(
  queries: Queries,
  account: string | undefined,
  options: StatementOptions,
  limit: number,
): void {
  if (options.metadata !== undefined) return metadataReport(queries, options, limit);
  const accountId = account as string;
  if (options.asOf !== undefined) return asOfReport(queries, accountId, options);
  statementReport(queries, accountId, options, limit);
}

/** `--as-of T`: the posted balance at T. An account unknown to the read model, or created after
 * T, is ACCOUNT_NOT_FOUND (exit 6), as `balance --as-of` reports it. */
function asOfReport(queries: Queries, accountId: string, options: StatementOptions): void {
  const asOf = options.asOf as string;
  const timestamp = parseTime(asOf, '--as-of');
  const balance = queries.balanceAsOf(accountId, { timestamp });
  const watermark = queries.watermark();
  if (balance === undefined) {
    const [account] = queries.lookupAccounts([accountId]);
    throw new CliError({
      code: 'ACCOUNT_NOT_FOUND',
      message:
        account === undefined
          ? `no account '${accountId}' in the read model (${watermarkText(watermark)})`
          : `account '${accountId}' did not exist as of ${asOf}`,
    });
  }
  if (options.json) return printJson({ ...balance, asOf: timestamp, watermark });
  print(
    `${accountId} balance at ${formatTimestamp(timestamp)}: ${formatAmount(balance.balance, moneyOf(balance.currency), options)} (${watermarkText(watermark)})`,
  );
}

/** `--metadata key=value`: the transfers carrying it, a page at a time. */
function metadataReport(queries: Queries, options: StatementOptions, limit: number): void {
  const metadata = options.metadata as string;
  const at = metadata.indexOf('=');
  if (at <= 0) throw usageError(`--metadata wants key=value, got '${metadata}'`);
  const page = queries.transfersByMetadata({
    key: metadata.slice(0, at),
    value: metadata.slice(at + 1),
    limit,
    after: options.after ?? null,
  });
  if (options.json) return printJson(page);
  print(
    formatTable(
      [
        { header: 'transfer' },
        { header: 'kind' },
        { header: 'state' },
        { header: 'debit' },
        { header: 'credit' },
        { header: 'amount', right: true },
        { header: 'time' },
      ],
      page.transfers.map((transfer) => [
        transfer.id,
        transfer.kind,
        transfer.state,
        transfer.debitAccountId,
        transfer.creditAccountId,
        formatAmount(transfer.amount, moneyOf(transfer.currency), options),
        formatTimestamp(transfer.timestamp),
      ]),
    ),
  );
  print(watermarkText(page.watermark));
  if (page.next !== null) print(`next page: --after ${page.next}`);
}

/** The account's statement: opening and closing balance, the sums, and its entries. */
function statementReport(
  queries: Queries,
  accountId: string,
  options: StatementOptions,
  limit: number,
): void {
  const statement = queries.statement({
    accountId,
    ...(options.from === undefined ? {} : { from: parseTime(options.from, '--from') }),
    ...(options.to === undefined ? {} : { to: parseTime(options.to, '--to') }),
    limit,
    after: options.after ?? null,
  });
  if (options.json) return printJson(statement);
  if (statement.account === null) {
    print(`no account '${accountId}' in the read model (${watermarkText(statement.watermark)})`);
    return;
  }
  const currency = statement.account.currency;
  const money = moneyOf(currency);
  const amount = (value: bigint): string => formatAmount(value, money, options);
  print(`statement of ${accountId} (${currency}), ${watermarkText(statement.watermark)}`);
  print(
    `opening balance ${amount(statement.opening.balance)}   debits ${amount(statement.debits)}   credits ${amount(statement.credits)}   closing balance ${amount(statement.closing.balance)}`,
  );
  if (statement.entries.length > 0) {
    print(
      formatTable(
        [
          { header: 'time' },
          { header: 'transfer' },
          { header: 'kind' },
          { header: 'amount', right: true },
          { header: 'balance after', right: true },
        ],
        statement.entries.map((entry) => [
          formatTimestamp(entry.timestamp),
          entry.transferId,
          entry.kind,
          amount(entry.amount),
          amount(entry.balance),
        ]),
      ),
    );
  }
  if (statement.next !== null) print(`next page: --after ${statement.next}`);
}
