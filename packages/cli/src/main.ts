#!/usr/bin/env node
// The `shardledger` command. Every command lives in src/commands/<name>.ts and is registered here,
// explicitly. Errors end the process with one line on stderr (`shardledger: CODE: message (hint)`)
// and the exit code of that code (errors.ts; the table is in `--help` and docs/cli.md).

import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerAccounts } from './commands/accounts.js';
import { registerBalance } from './commands/balance.js';
import { registerBench } from './commands/bench.js';
import { registerChanges } from './commands/changes.js';
import { registerExport } from './commands/export.js';
import { registerHistory } from './commands/history.js';
import { registerInfo } from './commands/info.js';
import { registerInit } from './commands/init.js';
import { registerProject } from './commands/project.js';
import { registerReconcile } from './commands/reconcile.js';
import { registerServe } from './commands/serve.js';
import { registerReplicate } from './commands/replicate.js';
import { registerSnapshot } from './commands/snapshot.js';
import { registerBackup } from './commands/backup.js';
import { registerStatement } from './commands/statement.js';
import { registerTransfer } from './commands/transfer.js';
import { registerVerify } from './commands/verify.js';
import { dirDefault, examples } from './context.js';
import { CliError, describeError, exitCodeTable, exitCodes } from './errors.js';
import { progressMode } from './progress.js';

const { version } = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
) as { version: string };

/** Commands, in the order `--help` lists them. A new command: one file, one line here. */
const commands: readonly ((program: Command) => void)[] = [
  registerInit,
  registerAccounts,
  registerTransfer,
  registerBalance,
  registerHistory,
  registerStatement,
  registerProject,
  registerVerify,
  registerSnapshot,
  registerBackup,
  registerExport,
  registerReconcile,
  registerChanges,
  registerInfo,
  registerReplicate,
  registerBench,
  registerServe,
];

function epilog(): string {
  const codes = exitCodeTable
    .map(({ code, meaning }) => `  ${String(code).padStart(2)}  ${meaning}`)
    .join('\n');
  return `${examples([
    'shardledger init --shards 4',
    'shardledger accounts create alice bob --currency USD',
    'shardledger transfer --from alice --to bob --amount 12.34',
    'shardledger balance bob',
    'shardledger verify && shardledger export --out events.ndjson',
  ])}
Data dir: --dir on every command, else $SHARDLEDGER_DIR, else ${dirDefault}. Only init creates one.
Amounts: major units at the currency's scale (12.34 USD, 1.500 KWD, 1000 KRW: ISO 4217; other
assets name theirs in the code: USDC/6, PTS/0), or raw minor units with --minor. --json prints
bigints as decimal strings of minor units.
Progress: verify, export and project report it on stderr when it is a terminal;
SHARDLEDGER_PROGRESS=lines writes plain lines anywhere (logs), SHARDLEDGER_PROGRESS=off none.
Errors: one line on stderr, "shardledger: CODE: message (hint: ...)".

Exit codes:
${codes}
`;
}

function createProgram(): Command {
  const program = new Command('shardledger')
    .description('Shardledger: a sharded, in-process, double-entry ledger')
    .version(version, '-V, --version')
    // Each command's options only where they are written: `transfer post X --dir D` goes to post.
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .exitOverride()
    // Commander's own message is replaced by our one-line report (see run()).
    .configureOutput({ outputError: () => undefined });
  program.addHelpText('after', epilog());
  for (const register of commands) register(program);
  return program;
}

async function run(argv: readonly string[]): Promise<number> {
  const program = createProgram();
  try {
    // A malformed SHARDLEDGER_PROGRESS is a usage error before any command starts work.
    progressMode();
    await program.parseAsync([...argv], { from: 'user' });
    return exitCodes.ok;
  } catch (caught) {
    let error: unknown = caught;
    if (caught instanceof CommanderError) {
      if (caught.exitCode === 0) return exitCodes.ok; // --help, --version
      // 'commander.help': no command given; the help went to stderr already.
      if (caught.code === 'commander.help' || caught.code === 'commander.helpDisplayed')
        return exitCodes.usage;
      error = new CliError({
        code: 'USAGE_ERROR',
        message: caught.message.replace(/^error: /, ''),
      });
    }
    // A closed pipe (`shardledger export | head`) is the reader's choice, not an error.
    if ((error as NodeJS.ErrnoException).code === 'EPIPE') return exitCodes.ok;
    const { line, exitCode } = describeError(error);
    process.stderr.write(`${line}\n`);
    return exitCode;
  }
}

// A reader that stops early (`shardledger export | head`) closes the pipe: not worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

process.exitCode = await run(process.argv.slice(2));
