// `shardledger info`: shards, partitions, log sizes, last sequence numbers, totals per currency.

import type { Command } from 'commander';
import type { LedgerInfo } from '@shardledger/shard-router';
import {
  examples,
  print,
  printJson,
  withDirOption,
  withJsonOption,
  withLedger,
  withMinorOption,
  type AmountOptions,
  type CommonOptions,
} from '../context.js';
import {
  formatAmount,
  formatBytes,
  formatFields,
  formatTable,
  formatTimestamp,
  moneyOf,
} from '../format.js';

export function registerInfo(program: Command): void {
  const command = program
    .command('info')
    .description('shards, partitions, log sizes and last sequence numbers');
  withDirOption(command);
  withJsonOption(command);
  withMinorOption(command);
  command.addHelpText(
    'after',
    examples(['shardledger info', 'shardledger info --json | jq ".shardInfo[].lastSequence"']),
  );
  command.action(async (options: CommonOptions & AmountOptions) => {
    const info = await withLedger(options.dir, (ledger) => ledger.info());
    if (options.json) return printJson(info);
    print(infoText(info, options));
  });
}

function infoText(info: LedgerInfo, options: AmountOptions): string {
  const right = true;
  const head = formatFields([
    ['dir', info.dir],
    ['ledger id', info.ledgerId],
    ['shards', String(info.shards)],
    ['partitions', String(info.partitionCount)],
    ['hash', info.hash],
    [
      'recovery',
      `${info.recovery.sagasCommitted} sagas committed, ${info.recovery.sagasReleased} released`,
    ],
  ]);
  const shards = formatTable(
    [
      { header: 'shard', right },
      { header: 'last seq', right },
      { header: 'last event' },
      { header: 'accounts', right },
      { header: 'pending', right },
      { header: 'log size', right },
      { header: 'snapshots', right },
      { header: 'recovery ms', right },
    ],
    info.shardInfo.map((shard, index) => [
      String(index),
      String(shard.lastSequence),
      shard.lastSequence === 0 ? '-' : formatTimestamp(shard.lastTimestamp),
      String(shard.accounts),
      String(shard.pendingOpen),
      formatBytes(shard.logSizeBytes),
      String(shard.snapshots.length),
      shard.recoveryMs.toFixed(1),
    ]),
  );
  const totals = new Map<string, bigint>();
  for (const shard of info.shardInfo)
    for (const total of shard.totals)
      totals.set(total.currency, (totals.get(total.currency) ?? 0n) + total.debitsPosted);
  const currencies = [...totals].sort(([left], [right]) => (left < right ? -1 : 1));
  const totalsTable =
    currencies.length === 0
      ? 'no postings yet'
      : formatTable(
          [{ header: 'currency' }, { header: 'posted (debits = credits)', right }],
          currencies.map(([currency, sum]) => [
            currency,
            formatAmount(sum, moneyOf(currency), options),
          ]),
        );
  return `${head}\n\n${shards}\n\n${totalsTable}`;
}
