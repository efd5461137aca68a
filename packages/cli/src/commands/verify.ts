// `shardledger verify`: replays every shard's log from event 1 and checks the invariants across
// shards. Exit 0 when clean, 1 on any violation (each printed, to stdout, as data).

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
import { CliError } from '../errors.js';
import { formatTable } from '../format.js';
import { withTicker } from '../progress.js';

export function registerVerify(program: Command): void {
  const command = program
    .command('verify')
    .description('replay every shard and check every invariant; exits 1 on any violation');
  withDirOption(command);
  withJsonOption(command);
  command.addHelpText(
    'after',
    examples(['shardledger verify', 'shardledger verify --dir /var/lib/ledger --json']),
  );
  command.action(async (options: CommonOptions) => {
    const startedMs = Date.now();
    const { result, shards } = await withLedger(options.dir, async (ledger) => ({
      result: await withTicker(
        (s) => `verifying ${ledger.shards} shards... ${s} s`,
        ledger.verify(),
      ),
      shards: ledger.shards,
    }));
    const elapsedMs = Date.now() - startedMs;
    if (options.json) printJson({ ...result, shards, elapsedMs });
    else if (result.ok)
      print(
        `ok: ${shards} shards, ${result.eventsReplayed.toLocaleString('en-US')} events replayed, no violations (${elapsedMs} ms)`,
      );
    else {
      print(
        formatTable(
          [{ header: 'shard' }, { header: 'rule' }, { header: 'detail' }],
          result.violations.map((v) => [
            v.shard === null ? 'all' : String(v.shard),
            v.rule,
            v.detail,
          ]),
        ),
      );
    }
    if (!result.ok) {
      const first = result.violations[0];
      throw new CliError({
        code: 'INVARIANT_VIOLATED',
        message: `${result.violations.length} invariant violation(s), first: ${first?.rule ?? '?'} (${first?.detail ?? ''})`,
        hint: 'keep the data dir as it is and report it; restore from a backup to keep running',
      });
    }
  });
}
