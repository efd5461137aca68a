// `shardledger accounts create|show|list|freeze|unfreeze|close`.

import type { Command } from 'commander';
import {
  limits,
  type Account,
  type AccountInput,
  type AccountResult,
  type Ledger,
} from '@shardledger/shard-router';
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
  readonly after?: string;
}

export function registerAccounts(program: Command): void {
  const accounts = program
    .command('accounts')
    .description('create, show and list accounts; freeze, unfreeze and close them');
  accounts.addHelpText(
    'after',
    examples([
      'shardledger accounts create alice bob --currency USD',
      'shardledger accounts show alice',
      'shardledger accounts list --json',
      'shardledger accounts freeze alice',
    ]),
  );
  registerCreate(accounts);
  registerShow(accounts);
  registerList(accounts);
  for (const change of statusChanges) registerStatusChange(accounts, change);
}

/** A command that changes accounts' status, and the Ledger call behind it. */
interface StatusChange {
  readonly name: 'freeze' | 'unfreeze' | 'close';
  readonly description: string;
  readonly help: string;
  readonly examples: readonly string[];
  readonly call: (ledger: Ledger, ids: readonly string[]) => Promise<AccountResult[]>;
}

const statusChanges: readonly StatusChange[] = [
  {
    name: 'freeze',
    description: 'freeze accounts: no new transfer to or from them until they are unfrozen',
    help: [
      'A frozen account keeps its balance and can still be read, but every new transfer that',
      'debits or credits it is rejected with ACCOUNT_FROZEN. Its open holds (pending transfers)',
      'may be voided or expire, not posted. An account already frozen reports "exists".',
    ].join('\n'),
    examples: ['shardledger accounts freeze alice', 'shardledger accounts freeze alice bob --json'],
    call: (ledger, ids) => ledger.freezeAccounts(ids),
  },
  {
    name: 'unfreeze',
    description: 'unfreeze frozen accounts: they take transfers again',
    help: [
      'Lifts "accounts freeze". An account that is not frozen reports "exists"; a closed account',
      'is rejected with ACCOUNT_CLOSED (closing is for good).',
    ].join('\n'),
    examples: ['shardledger accounts unfreeze alice'],
    call: (ledger, ids) => ledger.unfreezeAccounts(ids),
  },
  {
    name: 'close',
    description: 'close accounts for good (the balance must be zero, with nothing pending)',
    help: [
      'A closed account takes part in no transfer again (ACCOUNT_CLOSED) and is never reopened;',
      'its history stays readable. Only an account whose posted balance is zero and which has',
      'no pending transfer is closed: move the money out first, otherwise it is rejected with',
      'ACCOUNT_BALANCE_NOT_ZERO. A frozen account may be closed. An account already closed',
      'reports "exists".',
    ].join('\n'),
    examples: [
      'shardledger transfer --from alice --to bank --amount 12.50 --currency USD',
      'shardledger accounts close alice',
    ],
    call: (ledger, ids) => ledger.closeAccounts(ids),
  },
];

function registerStatusChange(accounts: Command, change: StatusChange): void {
  const command = accounts
    .command(change.name)
    .description(change.description)
    .argument('<ids...>', 'account ids');
  withDirOption(command);
  withJsonOption(command);
  command.addHelpText('after', `\n${change.help}\n${examples(change.examples)}`);
  command.action(async (ids: string[], options: CommonOptions) => {
    if (ids.length > limits.batchSizeMax)
      throw usageError(`at most ${limits.batchSizeMax} accounts per call`);
    const results = await withLedger(options.dir, (ledger) => change.call(ledger, ids));
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
    .description("list accounts with their balances, in id order (from the shards' account index)")
    .option('-c, --currency <code>', 'only accounts in this currency')
    .option('-n, --limit <n>', 'at most this many accounts (default: every account)')
    .option('--after <id>', 'start after this account id (the last id of the page before)');
  withDirOption(command);
  withJsonOption(command);
  withMinorOption(command);
  command.addHelpText(
    'after',
    examples([
      'shardledger accounts list',
      'shardledger accounts list --currency USD --limit 20',
      'shardledger accounts list --limit 20 --after alice',
      'shardledger accounts list --json | jq -r ".[].id"',
    ]),
  );
  command.action(async (options: ListOptions) => {
    const limit =
      options.limit === undefined ? Number.POSITIVE_INFINITY : parseCount(options.limit, '--limit');
    const list = await withLedger(options.dir, (ledger) =>
      listAccountPages(ledger, { after: options.after ?? null, limit, currency: options.currency }),
    );
    if (options.json) printJson(list.map(accountJson));
    else if (list.length === 0) print('no accounts');
    else print(accountsTable(list, options));
  });
}

/** Accounts in id order after `after`, up to `limit` (may be Infinity), a page of at most
 * limits.pageSizeMax at a time (Ledger.listAccounts). */
export async function listAccountPages(
  ledger: Ledger,
  options: { after: string | null; limit: number; currency: string | undefined },
): Promise<Account[]> {
  const accounts: Account[] = [];
  let after = options.after;
  while (accounts.length < options.limit) {
    const page = await ledger.listAccounts({
      after,
      limit: Math.min(options.limit - accounts.length, limits.pageSizeMax),
      ...(options.currency === undefined ? {} : { currency: options.currency }),
    });
    accounts.push(...page.accounts);
    if (page.next === null) break;
    after = page.next;
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
