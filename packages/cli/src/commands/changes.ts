// `shardledger changes [--after CURSOR | --from TIME] [--follow] [--json]`: the change feed
// (Ledger.changes) on stdout; --from starts at each shard's first event at or after a time. With --json one NDJSON line per event: {"shard":0,"sequence":1,"timestamp":"…",
// "event":{…},"balances":[…],"cursor":"0:1,1:0"}, bigints as decimal strings; `cursor` resumes
// after that line (--after). Without --follow it stops once caught up; with it, at SIGINT or
// SIGTERM, printing the cursor to resume from on stderr. A slow reader of stdout slows the feed,
// never the ledger: the feed reads behind, from the logs.

import { once } from 'node:events';
import type { Command } from 'commander';
import type { ChangeEvent, Ledger } from '@shardledger/shard-router';
import {
  examples,
  withDirOption,
  withJsonOption,
  withLedger,
  type CommonOptions,
} from '../context.js';
import { toJson } from '../format.js';
import { parseTime } from './statement.js';

interface ChangesCommandOptions extends CommonOptions {
  readonly after?: string;
  readonly from?: string;
  readonly follow: boolean;
}

export function registerChanges(program: Command): void {
  const command = program
    .command('changes')
    .description(
      "print every committed event with its accounts' balances after it (the change feed)",
    )
    .option('--after <cursor>', 'start after this cursor (a "cursor" printed before)')
    .option(
      '--from <time>',
      "start at each shard's first event at or after this time (ISO date or ns)",
    )
    .option('--follow', 'keep printing new events until interrupted', false);
  withDirOption(command);
  withJsonOption(command);
  command.addHelpText(
    'after',
    examples([
      'shardledger changes --json > changes.ndjson',
      'shardledger changes --json --after "0:1200,1:998" --follow',
      'shardledger changes --json --from 2026-12-06',
      'shardledger changes --json --follow | jq -c "select(.event.type == \\"TransferCreated\\")"',
    ]),
  );
  command.action(async (options: ChangesCommandOptions) => {
    await withLedger(options.dir, (ledger) => printChanges(ledger, options));
  });
}

/** One line of plain output: where, what, and the balances after it. */
function plainLine(change: ChangeEvent): string {
  const balances = change.balances
    .map((balance) => `${balance.accountId}=${balance.creditsPosted - balance.debitsPosted}`)
    .join(' ');
  return `${change.shard}:${change.sequence} ${change.event.type} ${balances}`.trimEnd();
}

async function printChanges(ledger: Ledger, options: ChangesCommandOptions): Promise<void> {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  let stdoutFailed = false;
  const failed = (): void => {
    stdoutFailed = true;
    stop();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // A closed pipe (`| head`) ends the feed rather than the process.
  process.stdout.once('error', failed);
  const feed = ledger.changes({
    after: options.after ?? null,
    ...(options.from === undefined ? {} : { from: parseTime(options.from, '--from') }),
    follow: options.follow,
    signal: controller.signal,
  });
  try {
    let chunk = '';
    for await (const change of feed) {
      chunk += options.json
        ? `${toJson({ ...change, cursor: feed.cursor }, 0)}\n`
        : `${plainLine(change)}\n`;
      // Written a page at a time while events wait, at once when the feed is about to wait.
      if (chunk.length < 65_536 && feed.heldEvents > 0) continue;
      if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
      chunk = '';
    }
    // What was taken from the feed is printed, or the cursor below would skip it.
    if (chunk !== '' && !stdoutFailed) process.stdout.write(chunk);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    process.stdout.off('error', failed);
  }
  if (options.follow && !stdoutFailed)
    process.stderr.write(`resume with --after "${feed.cursor}"\n`);
}
