// `shardledger accounts create|show|list`.

import type { Command } from 'commander';
import { limits, type Account, type AccountInput, type Ledger } from '@shardledger/shard-router';
import {
  collectMetadata,
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
import { CliError, throwOnRejection, usageError } from '../errors.js';
import { formatAmount, formatTable, formatTimestamp } from '../format.js';

interface CreateOptions extends CommonOptions {
  readonly currency: string;
  readonly debitsMustNotExceedCredits: boolean;
  readonly creditsMustNotExceedDebits: boolean;
  readonly metadata?: Record<string, string>;
}

interface ShowOptions extends CommonOptions, AmountOptions {}

interface ListOptions extends CommonOptions, AmountOptions {
  readonly currency?: string;
  readonly limit?: string;
}

/** Events read per readEvents call when scanning for accounts. */
const scanPageSize = 1_000;

export function registerAccounts(program: Command): void {
  const accounts = program.command('accounts').description('create, show and list accounts');
  accounts.addHelpText(
    'after',
    examples([
      'shardledger accounts create alice bob --currency USD',
      'shardledger accounts show alice',
      'shardledger accounts list --json',
    ]),
  );
  registerCreate(accounts);
  registerShow(accounts);
  registerList(accounts);
}

function registerCreate(accounts: Command): void {
  const command = accounts
    .command('create')
    .description(
      'create accounts (an identical existing account reports "exists" and is not an error)',
    )
    .argument('<ids...>', 'account ids (1 to 128 bytes)')
    .requiredOption(
      '-c, --currency <code>',
      'an ISO 4217 code (USD, KWD, KRW), or any asset with its scale: USDC/6, PTS/0',
    )
    .option(
      '--debits-must-not-exceed-credits',
      'no overdraft: refuse transfers that would make the balance negative',
      false,
    )
    .option('--credits-must-not-exceed-debits', 'the mirror rule, for debit-normal accounts', false)
    .option('-m, --metadata <key=value>', 'metadata (repeatable)', collectMetadata);
  withDirOption(command);
  withJsonOption(command);
  command.addHelpText(
    'after',
    examples([
      'shardledger accounts create alice --currency USD --debits-must-not-exceed-credits',
      'shardledger accounts create bank:cash --currency EUR --metadata owner=treasury',
      'shardledger accounts create a1 a2 a3 --currency JPY --json',
      'shardledger accounts create wallet-7 --currency USDC/6',
    ]),
  );
  command.action(async (ids: string[], options: CreateOptions) => {
    const inputs: AccountInput[] = ids.map((id) => ({
      id,
      currency: options.currency,
      debitsMustNotExceedCredits: options.debitsMustNotExceedCredits,
      creditsMustNotExceedDebits: options.creditsMustNotExceedDebits,
      metadata: options.metadata ?? null,
    }));
    if (inputs.length > limits.batchSizeMax)
      throw usageError(`at most ${limits.batchSizeMax} accounts per call`);
    const results = await withLedger(options.dir, (ledger) => ledger.createAccounts(inputs));
    if (options.json) printJson(results);
    else
      print(
        formatTable(
          [{ header: 'id' }, { header: 'status' }],
          results.map((result) => [result.id, result.status]),
        ),
      );
    throwOnRejection(results, 'account');
  });
}

function registerShow(accounts: Command): void {
  const command = accounts
    .command('show')
    .description("show accounts' balances")
    .argument('<ids...>', 'account ids');
  withDirOption(command);
  withJsonOption(command);
  withMinorOption(command);
  command.addHelpText(
    'after',
    examples([
      'shardledger accounts show alice bob',
      'shardledger accounts show alice --json --minor',
    ]),
  );
  command.action(async (ids: string[], options: ShowOptions) => {
    if (ids.length > limits.batchSizeMax)
      throw usageError(`at most ${limits.batchSizeMax} ids per call`);
    const found = await withLedger(options.dir, (ledger) => ledger.lookupAccounts(ids));
    const present = found.filter((account): account is Account => account !== undefined);
    if (options.json) printJson(present.map(accountJson));
    else if (present.length > 0) print(accountsTable(present, options));
    const missing = ids.filter((_, index) => found[index] === undefined);
    if (missing.length > 0) {
      throw new CliError({
        code: 'ACCOUNT_NOT_FOUND',
        message: `no account ${missing.map((id) => `'${id}'`).join(', ')}`,
      });
    }
  });
}

function registerList(accounts: Command): void {
  const command = accounts
    .command('list')
    .description('list every account with its balances, sorted by id (scans the event logs)')
    .option('-c, --currency <code>', 'only accounts in this currency')
    .option('-n, --limit <n>', 'at most this many accounts');
  withDirOption(command);
  withJsonOption(command);
  withMinorOption(command);
  command.addHelpText(
    'after',
    examples([
      'shardledger accounts list',
      'shardledger accounts list --currency USD --limit 20',
      'shardledger accounts list --json | jq -r ".[].id"',
    ]),
  );
  command.action(async (options: ListOptions) => {
    const limit =
      options.limit === undefined ? Number.POSITIVE_INFINITY : parseCount(options.limit, '--limit');
    const list = await withLedger(options.dir, async (ledger) => {
      const ids = (await listAccountIds(ledger, options.currency)).slice(0, limit);
      return lookupAll(ledger, ids);
    });
    if (options.json) printJson(list.map(accountJson));
    else if (list.length === 0) print('no accounts');
    else print(accountsTable(list, options));
  });
}

/** Every account id, found through the AccountCreated events of every shard, sorted. */
export async function listAccountIds(ledger: Ledger, currency?: string): Promise<string[]> {
  const ids: string[] = [];
  for (let shard = 0; shard < ledger.shards; shard += 1) {
    let after = 0;
    for (;;) {
      const page = await ledger.readEvents(shard, after, scanPageSize);
      for (const { event } of page) {
        if (event.type !== 'AccountCreated') continue;
        if (currency === undefined || event.account.currency === currency)
          ids.push(event.account.id);
      }
      const last = page[page.length - 1];
      if (last === undefined || page.length < scanPageSize) break;
      after = last.sequence;
    }
  }
  return ids.sort((left, right) => (left < right ? -1 : left > right ? 1 : 0));
}

async function lookupAll(ledger: Ledger, ids: readonly string[]): Promise<Account[]> {
  const accounts: Account[] = [];
  for (let start = 0; start < ids.length; start += limits.batchSizeMax) {
    const found = await ledger.lookupAccounts(ids.slice(start, start + limits.batchSizeMax));
    for (const account of found) if (account !== undefined) accounts.push(account);
  }
  return accounts;
}

export function accountJson(account: Account): Record<string, unknown> {
  return { ...account, createdAt: formatTimestamp(account.timestamp) };
}

export function accountsTable(list: readonly Account[], options: AmountOptions): string {
  const amount = (value: bigint, account: Account): string => formatAmount(value, account, options);
  return formatTable(
    [
      { header: 'id' },
      { header: 'balance', right: true },
      { header: 'available', right: true },
      { header: 'debits posted', right: true },
      { header: 'credits posted', right: true },
      { header: 'debits pending', right: true },
      { header: 'credits pending', right: true },
      { header: 'rule' },
    ],
    list.map((account) => [
      account.id,
      amount(account.balance, account),
      amount(account.available, account),
      amount(account.debitsPosted, account),
      amount(account.creditsPosted, account),
      amount(account.debitsPending, account),
      amount(account.creditsPending, account),
      account.debitsMustNotExceedCredits
        ? 'no overdraft'
        : account.creditsMustNotExceedDebits
          ? 'credits <= debits'
          : '',
    ]),
  );
}
