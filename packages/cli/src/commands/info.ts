// `shardledger info`: shards, partitions, log sizes, last sequence numbers, totals per currency,
// and the figures the OpenTelemetry instruments report (Ledger.metrics: queue depths, open sagas,
// snapshot age, LMDB map use, worker restarts), read from the same snapshot.

import type { Command } from 'commander';
import type { LedgerInfo, LedgerMetrics } from '@shardledger/shard-router';
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
    .description(
      'shards, partitions, log sizes, last sequence numbers and metrics (queues, sagas, snapshot age, map use)',
    );
  withDirOption(command);
  withJsonOption(command);
  withMinorOption(command);
  command.addHelpText(
    'after',
    examples([
      'shardledger info',
      'shardledger info --json | jq ".shardInfo[].lastSequence"',
      'shardledger info --json | jq ".metrics.shards[].snapshotAgeSeconds"',
    ]),
  );
  command.action(async (options: CommonOptions & AmountOptions) => {
    const [info, metrics] = await withLedger(options.dir, (ledger) =>
      Promise.all([ledger.info(), ledger.metrics()]),
    );
    if (options.json) return printJson({ ...info, metrics });
    print(`${infoText(info, options)}\n\n${metricsText(metrics)}`);
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

/** The per-shard gauges and counters of Ledger.metrics(), as OpenTelemetry reports them. Counts
 * since open are those of this command's own open (sagas it recovered; restarts). */
function metricsText(metrics: LedgerMetrics): string {
  const right = true;
  return formatTable(
    [
      { header: 'shard', right },
      { header: 'queue', right },
      { header: 'sagas open', right },
      { header: 'holds open', right },
      { header: 'snapshot age', right },
      { header: 'events after snapshot', right },
      { header: 'map used', right },
      { header: 'map size', right },
      { header: 'restarts', right },
    ],
    metrics.shards.map((shard) => [
      String(shard.shard),
      String(shard.queueDepth),
      String(shard.sagasOpen),
      String(shard.holdsOpen),
      shard.snapshotAgeSeconds === null ? '-' : `${shard.snapshotAgeSeconds} s`,
      String(shard.eventsSinceSnapshot),
      formatBytes(shard.mapUsedBytes),
      formatBytes(shard.mapSizeBytes),
      String(shard.restarts),
    ]),
  );
}
