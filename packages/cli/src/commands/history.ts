// `shardledger history <id> [--limit N] [--after CURSOR]`: an account's postings, oldest first,
// one page at a time (sequence numbers are those of the account's shard).

import type { Command } from 'commander';
import { limits, pageSizeDefault, type HistoryPage } from '@shardledger/shard-router';
import {
  examples,
  parseCount,
  print,
  printJson,
  withDirOption,
  withJsonOption,
  withLedger,
  withMinorOption,
  type AmountOptions,
  type CommonOptions,
} from '../context.js';
import { CliError } from '../errors.js';
import { formatAmount, formatTable, formatTimestamp, type Money } from '../format.js';

interface HistoryOptions extends CommonOptions, AmountOptions {
  readonly limit: string;
  readonly after?: string;
}

export function registerHistory(program: Command): void {
  const command = program
    .command('history')
    .description("an account's postings, oldest first, paginated")
    .argument('<id>', 'account id')
    .option(
      '-n, --limit <n>',
      `entries per page, at most ${limits.pageSizeMax}`,
      String(pageSizeDefault),
    )
    .option('--after <cursor>', 'start after this cursor (the "next" of the previous page)');
  withDirOption(command);
  withJsonOption(command);
  withMinorOption(command);
  command.addHelpText(
    'after',
    examples([
      'shardledger history alice',
      'shardledger history alice --limit 100 --after 4711',
      'shardledger history alice --json | jq .next',
    ]),
  );
  command.action(showHistory);
}

async function showHistory(id: string, options: HistoryOptions): Promise<void> {
  const limit = parseCount(options.limit, '--limit');
  if (limit > limits.pageSizeMax)
    throw new CliError({
      code: 'USAGE_ERROR',
      message: `--limit must be at most ${limits.pageSizeMax}`,
    });
  const after = options.after ?? null;
  const { account, page } = await withLedger(options.dir, async (ledger) => {
    const [account] = await ledger.lookupAccounts([id]);
    if (account === undefined)
      throw new CliError({ code: 'ACCOUNT_NOT_FOUND', message: `no account '${id}'` });
    return { account, page: await ledger.accountHistory(id, { after, limit }) };
  });
  if (options.json)
    return printJson({ account: id, currency: account.currency, scale: account.scale, ...page });
  if (page.entries.length === 0)
    print(after === null ? 'no postings' : `no postings after ${after}`);
  else print(historyTable(page, account, options));
  if (page.next !== null)
    print(
      `next page: shardledger history ${id} --after ${page.next}${limit === pageSizeDefault ? '' : ` --limit ${limit}`}`,
    );
}

/** One row per posting: sequence, time, event, transfer, the balance after it and the four
 * balance columns. */
function historyTable(page: HistoryPage, money: Money, options: AmountOptions): string {
  const amount = (value: bigint): string => formatAmount(value, money, options);
  const rows = page.entries.map((entry) => [
    String(entry.sequence),
    formatTimestamp(entry.timestamp),
    entry.eventType,
    entry.transferId,
    amount(entry.creditsPosted - entry.debitsPosted),
    amount(entry.debitsPosted),
    amount(entry.creditsPosted),
    amount(entry.debitsPending),
    amount(entry.creditsPending),
  ]);
  const right = true;
  return formatTable(
    [
      { header: 'seq', right },
      { header: 'time' },
      { header: 'event' },
      { header: 'transfer' },
      { header: 'balance after', right },
      { header: 'debits posted', right },
      { header: 'credits posted', right },
      { header: 'debits pending', right },
      { header: 'credits pending', right },
    ],
    rows,
  );
}
