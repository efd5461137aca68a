// `shardledger backup TARGET`: copies the data dir, while it is in use, into a new dir.

import type { Command } from 'commander';
import {
  examples,
  print,
  printJson,
  withDirOption,
  withJsonOption,
  withLedger,
  type CommonOptions,
} from '../context.js';
import { formatBytes, formatTable } from '../format.js';

export function registerBackup(program: Command): void {
  const command = program
    .command('backup')
    .description(
      'copy the ledger into TARGET (a new dir): every shard log, its snapshots, the manifest',
    )
    .argument('<target>', 'the dir to create; it must not exist');
  withDirOption(command);
  withJsonOption(command);
  command.addHelpText(
    'after',
    [
      '',
      'The copy is a data dir: open it with --dir TARGET (or Ledger.open). It opens',
      'consistent: a cross-shard transfer caught half-way is finished or rolled back, as',
      'after a crash. A copy cut short has no manifest.json and does not open',
      '(NOT_A_LEDGER): delete it and take another. This command opens the data dir',
      '(DIR_LOCKED while an application has it open); a running application backs up with',
      'ledger.backup(target), writes going on meanwhile.',
      examples([
        'shardledger backup /backups/ledger-2026-11-24',
        'shardledger backup ./copy --json && shardledger verify --dir ./copy',
      ]),
    ].join('\n'),
  );
  command.action(async (target: string, options: CommonOptions) => {
    const backup = await withLedger(options.dir, (ledger) => ledger.backup(target));
    if (options.json) return printJson(backup);
    const right = true;
    print(
      formatTable(
        [
          { header: 'shard', right },
          { header: 'sequence at least', right },
          { header: 'log size', right },
          { header: 'snapshots', right },
          { header: 'ms', right },
        ],
        backup.shards.map((shard, index) => [
          String(index),
          String(shard.sequenceAtLeast),
          formatBytes(shard.logSizeBytes),
          String(shard.snapshots),
          shard.ms.toFixed(0),
        ]),
      ),
    );
    print(`backup in ${backup.dir} (${backup.ms.toFixed(0)} ms); open it with --dir ${backup.dir}`);
  });
}
