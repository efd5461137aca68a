// `shardledger balance <id> [--as-of <ISO time | seq:N>]`.

import type { Command } from 'commander';
import type { Account } from '@shardledger/shard-router';
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
import { CliError, usageError } from '../errors.js';
import { formatAmount, formatFields, formatTimestamp } from '../format.js';
import { accountJson } from './accounts.js';

interface BalanceOptions extends CommonOptions, AmountOptions {
  readonly asOf?: string;
}

export type AsOf = { readonly sequence: number } | { readonly timestamp: bigint };

/** `seq:N` (a sequence number of the account's shard) or an ISO 8601 time. */
export function parseAsOf(text: string): AsOf {
  if (text.startsWith('seq:'))
    return { sequence: parseCount(text.slice(4), '--as-of seq:N', { min: 0 }) };
  // Date.parse also takes loose formats ("March 7"): insist on ISO 8601, starting YYYY-MM-DD.
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms))
    throw usageError(
      `--as-of wants an ISO 8601 time (2025-01-31T23:59:59Z) or seq:N, got '${text}'`,
    );
  // The engine's clock is in ns; as of a time t means every event up to the end of that ms.
  return { timestamp: BigInt(ms) * 1_000_000n + 999_999n };
}

export function registerBalance(program: Command): void {
  const command = program
    .command('balance')
    .description("an account's balance now, or as of a past time or sequence number")
    .argument('<id>', 'account id')
    .option(
      '--as-of <when>',
      "an ISO 8601 time (2025-01-31T23:59:59Z) or seq:N (sequence number of the account's shard)",
    );
  withDirOption(command);
  withJsonOption(command);
  withMinorOption(command);
  command.addHelpText(
    'after',
    examples([
      'shardledger balance alice',
      'shardledger balance alice --as-of 2025-01-31T23:59:59Z',
      'shardledger balance alice --as-of seq:42 --json',
    ]),
  );
  command.action(async (id: string, options: BalanceOptions) => {
    const asOf = options.asOf === undefined ? undefined : parseAsOf(options.asOf);
    const account = await withLedger(options.dir, async (ledger) => {
      const [now] = await ledger.lookupAccounts([id]);
      if (now === undefined)
        throw new CliError({ code: 'ACCOUNT_NOT_FOUND', message: `no account '${id}'` });
      if (asOf === undefined) return now;
      const then = await ledger.balanceAsOf(id, asOf);
      if (then === undefined)
        throw new CliError({
          code: 'ACCOUNT_NOT_FOUND',
          message: `account '${id}' did not exist as of ${options.asOf ?? ''}`,
        });
      return then;
    });
    if (options.json)
      return printJson({
        ...accountJson(account),
        ...(options.asOf === undefined ? {} : { asOf: options.asOf }),
      });
    print(balanceFields(account, options, options.asOf));
  });
}

function balanceFields(account: Account, options: AmountOptions, asOf: string | undefined): string {
  const amount = (value: bigint): string => formatAmount(value, account, options);
  return formatFields([
    ['account', account.id],
    ...(asOf === undefined ? [] : [['as of', asOf] as const]),
    ['balance', amount(account.balance)],
    ['available', amount(account.available)],
    ['debits posted', amount(account.debitsPosted)],
    ['credits posted', amount(account.creditsPosted)],
    ['debits pending', amount(account.debitsPending)],
    ['credits pending', amount(account.creditsPending)],
    ['created', formatTimestamp(account.timestamp)],
  ]);
}
