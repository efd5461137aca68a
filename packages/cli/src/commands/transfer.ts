// `shardledger transfer`: one transfer (plain or pending), a batch or an atomic group from a file,
// and `transfer post|void <pendingId>` for two-phase transfers.

import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import {
  currencyScale,
  limits,
  type Ledger,
  type TransferInput,
  type TransferResult,
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
import {
  checkAmountSyntax,
  formatAmount,
  formatTable,
  moneyOf,
  parseAmountText,
  type Money,
} from '../format.js';
import { readTransferFile, type FileTransfer } from '../transfer-file.js';

interface TransferOptions extends CommonOptions, AmountOptions {
  readonly from?: string;
  readonly to?: string;
  readonly amount?: string;
  readonly currency?: string;
  readonly id?: string;
  readonly pending: boolean;
  readonly timeoutMs?: string;
  readonly metadata?: Record<string, string>;
  readonly file?: string;
  readonly atomic: boolean;
}

interface ResolveOptions extends CommonOptions, AmountOptions {
  readonly id?: string;
  readonly amount?: string;
  readonly metadata?: Record<string, string>;
}

export function registerTransfer(program: Command): void {
  const command = program
    .command('transfer')
    .description(
      'move money from a debit account to a credit account (or post/void a pending transfer)',
    )
    .option('-f, --from <account>', 'debit account: the money leaves it')
    .option('-t, --to <account>', 'credit account: the money arrives there')
    .option('-a, --amount <amount>', 'amount in major units (12.34), or minor units with --minor')
    .option(
      '-c, --currency <code>',
      "currency (default: the debit account's); amounts use its scale: KWD 3, KRW 0, USDC/6 6",
    )
    .option(
      '--id <id>',
      'transfer id; resubmitting the same id and fields is safe (default: a random UUID)',
    )
    .option(
      '--pending',
      'two-phase: hold the amount until `transfer post` or `transfer void`',
      false,
    )
    .option('--timeout-ms <ms>', 'pending only: void automatically after this many ms')
    .option('-m, --metadata <key=value>', 'metadata (repeatable)', collectMetadata)
    .option(
      '--file <path>',
      'a batch from a JSON array or NDJSON file (one transfer object per line)',
    )
    .option('--atomic', 'with --file: all or nothing (an atomic group)', false);
  withDirOption(command);
  withJsonOption(command);
  withMinorOption(command);
  command.addHelpText(
    'after',
    `${examples([
      'shardledger transfer --from alice --to bob --amount 12.34',
      'shardledger transfer --from alice --to bob --amount 1234 --minor --currency USD --id order-77',
      'shardledger transfer --from alice --to bob --amount 5 --pending --timeout-ms 60000 --id hold-1',
      'shardledger transfer post hold-1 --amount 4.50',
      'shardledger transfer void hold-1',
      'shardledger transfer --file batch.ndjson --atomic',
    ])}
File format (--file): a JSON array, or NDJSON with one object per line:
  {"id":"t1","debitAccountId":"alice","creditAccountId":"bob","amount":"12.34","currency":"USD"}
  "currency" may be omitted (the debit account's is used); "pending", "timeoutMs" and
  "metadata" are optional. Amounts follow the same rule as --amount (major units unless --minor);
  amounts with decimals must be JSON strings.
`,
  );
  command.action(async (options: TransferOptions) => {
    if (options.file !== undefined) return transferFile(options.file, options);
    if (options.atomic)
      throw usageError('--atomic needs --file (an atomic group of several transfers)');
    await transferOne(options);
  });
  registerResolve(command, 'post');
  registerResolve(command, 'void');
}

async function transferOne(options: TransferOptions): Promise<void> {
  const { from, to, amount } = options;
  if (from === undefined || to === undefined || amount === undefined) {
    throw usageError('transfer needs --from, --to and --amount (or --file)');
  }
  checkAmountSyntax(amount, options);
  if (options.timeoutMs !== undefined && !options.pending)
    throw usageError('--timeout-ms applies only to --pending transfers');
  const timeoutMs =
    options.timeoutMs === undefined
      ? undefined
      : parseCount(options.timeoutMs, '--timeout-ms', { min: 0 });
  const input = {
    id: options.id ?? randomUUID(),
    debitAccountId: from,
    creditAccountId: to,
    amount,
    currency: options.currency,
    pending: options.pending,
    timeoutMs,
    metadata: options.metadata ?? null,
  };
  await submit([input], options);
}

async function transferFile(file: string, options: TransferOptions): Promise<void> {
  const single = ['from', 'to', 'amount', 'id', 'currency', 'timeoutMs', 'metadata'] as const;
  const clash = single.find((key) => options[key] !== undefined);
  if (clash !== undefined || options.pending)
    throw usageError(`--file takes the transfers from the file; drop --${clash ?? 'pending'}`);
  const items = await readTransferFile(file, options);
  if (items.length === 0) throw usageError(`${file} holds no transfers`);
  const max = options.atomic ? limits.groupSizeMax : limits.batchSizeMax;
  if (items.length > max)
    throw usageError(
      `${file} holds ${items.length} transfers; at most ${max} per ${options.atomic ? 'atomic group' : 'call'}`,
    );
  await submit(items, options);
}

/** Fills in missing currencies from the debit accounts, parses amounts at the scale the debit
 * account recorded (or the one the currency code names), submits, reports. */
async function submit(items: readonly FileTransfer[], options: TransferOptions): Promise<void> {
  const { results, inputs } = await withLedger(options.dir, async (ledger) => {
    const moneys = await moneyOfItems(ledger, items, options);
    const inputs: TransferInput[] = items.map((item, index) => {
      const money = moneys[index] as Money;
      const { timeoutMs, ...rest } = item;
      return {
        ...rest,
        currency: money.currency,
        amount: parseAmountText(item.amount, money, options),
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      };
    });
    const results = options.atomic
      ? await ledger.createAtomicGroup(inputs)
      : await ledger.createTransfers(inputs);
    return { results, inputs };
  });
  report(results, inputs, options);
}

/** Per item: its currency (the debit account's when the item names none) and the scale its
 * amount is written in: the debit account's when the currencies agree, else the one the code
 * names (the ledger then refuses the mismatch; a code that names none is CURRENCY_UNKNOWN). */
async function moneyOfItems(
  ledger: Ledger,
  items: readonly FileTransfer[],
  options: AmountOptions,
): Promise<Money[]> {
  const debitIds = [...new Set(items.map((item) => item.debitAccountId))];
  const accounts = await ledger.lookupAccounts(debitIds);
  const byId = new Map<string, Money>();
  for (const account of accounts) if (account !== undefined) byId.set(account.id, account);
  return items.map((item) => {
    const account = byId.get(item.debitAccountId);
    const currency = item.currency ?? account?.currency;
    if (currency === undefined) {
      throw new CliError({
        code: 'ACCOUNT_NOT_FOUND',
        message: `no account '${item.debitAccountId}' (debit account of transfer ${item.id})`,
      });
    }
    if (account !== undefined && account.currency === currency) return account;
    // Minor units need no scale: the code is the ledger's to check.
    return options.minor ? { currency, scale: 0 } : { currency, scale: currencyScale(currency) };
  });
}

function report(
  results: readonly TransferResult[],
  inputs: readonly TransferInput[],
  options: CommonOptions & AmountOptions,
): void {
  if (options.json) printJson(results);
  else if (
    results.length > 1 ||
    results.every((result) => result.status === 'ok' || result.status === 'exists')
  ) {
    const rows = results.map((result, index) => {
      const input = inputs[index];
      const amount =
        input === undefined
          ? ''
          : formatAmount(BigInt(input.amount), moneyOf(input.currency), options);
      return [
        result.id,
        result.status,
        amount,
        input?.debitAccountId ?? '',
        input?.creditAccountId ?? '',
        input?.pending === true ? 'pending' : '',
      ];
    });
    print(
      formatTable(
        [
          { header: 'id' },
          { header: 'status' },
          { header: 'amount', right: true },
          { header: 'from' },
          { header: 'to' },
          { header: '' },
        ],
        rows,
      ),
    );
  }
  throwOnRejection(results, 'transfer', (index) => {
    const input = inputs[index];
    return input === undefined
      ? ''
      : `${input.debitAccountId} -> ${input.creditAccountId}, ${formatAmount(BigInt(input.amount), moneyOf(input.currency), options)}`;
  });
}

function registerResolve(transfer: Command, action: 'post' | 'void'): void {
  const command = transfer
    .command(action)
    .description(
      action === 'post'
        ? 'post a pending transfer (all of it, or a smaller --amount)'
        : 'void a pending transfer, releasing the held amount',
    )
    .argument('<pendingId>', 'id of the pending transfer')
    .option('--id <id>', `id of the ${action} itself (default: a random UUID)`);
  if (action === 'post')
    command.option('-a, --amount <amount>', 'post less than the pending amount');
  command.option('-m, --metadata <key=value>', 'metadata (repeatable)', collectMetadata);
  withDirOption(command);
  withJsonOption(command);
  withMinorOption(command);
  command.addHelpText(
    'after',
    examples(
      action === 'post'
        ? [
            'shardledger transfer post hold-1',
            'shardledger transfer post hold-1 --amount 4.50 --id capture-1',
          ]
        : [
            'shardledger transfer void hold-1',
            'shardledger transfer void hold-1 --id release-1 --json',
          ],
    ),
  );
  command.action(async (pendingId: string, options: ResolveOptions) => {
    if (options.amount !== undefined) checkAmountSyntax(options.amount, options);
    const id = options.id ?? randomUUID();
    const metadata = options.metadata ?? null;
    const { results, input } = await withLedger(options.dir, async (ledger) => {
      const [pending] = await ledger.lookupTransfers([pendingId]);
      if (pending === undefined)
        throw new CliError({ code: 'PENDING_NOT_FOUND', message: `no transfer '${pendingId}'` });
      const [debit] = await ledger.lookupAccounts([pending.debitAccountId]);
      const money = debit ?? moneyOf(pending.currency);
      const amount =
        options.amount === undefined ? undefined : parseAmountText(options.amount, money, options);
      const results =
        action === 'post'
          ? await ledger.postPendingTransfers([
              { id, pendingId, metadata, ...(amount === undefined ? {} : { amount }) },
            ])
          : await ledger.voidPendingTransfers([{ id, pendingId, metadata }]);
      const input: TransferInput = {
        id,
        debitAccountId: pending.debitAccountId,
        creditAccountId: pending.creditAccountId,
        amount: amount ?? pending.amount,
        currency: pending.currency,
      };
      return { results, input };
    });
    report(results, [input], options);
  });
}
