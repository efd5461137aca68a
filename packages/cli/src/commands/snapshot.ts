// `shardledger snapshot`: snapshots every shard now (recovery then replays only the tail).

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

export function registerSnapshot(program: Command): void {
  const command = program.command('snapshot').description('take a snapshot of every shard now');
  withDirOption(command);
  withJsonOption(command);
  command.addHelpText('after', examples(['shardledger snapshot', 'shardledger snapshot --json']));
  command.action(async (options: CommonOptions) => {
    const snapshots = await withLedger(options.dir, (ledger) => ledger.snapshot());
    if (options.json)
      return printJson(snapshots.map((snapshot, shard) => ({ shard, ...snapshot })));
    const right = true;
    print(
      formatTable(
        [
          { header: 'shard', right },
          { header: 'sequence', right },
          { header: 'size', right },
          { header: 'pause ms', right },
          { header: 'file' },
        ],
        snapshots.map((s, shard) => [
          String(shard),
          String(s.sequence),
          formatBytes(s.sizeBytes),
          s.pauseMs.toFixed(1),
          s.file,
        ]),
      ),
    );
  });
}
