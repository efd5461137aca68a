// What every command shares: the --dir / --json / --minor options, opening an existing data dir
// (only `init` may create one), and writing results to stdout.

import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { Ledger, type LedgerOptions } from '@shardledger/shard-router';
import { readManifest, type Manifest } from '@shardledger/shard-router/internals';
import { CliError, usageError } from './errors.js';
import { toJson } from './format.js';

export const dirDefault = './shardledger-data';

export interface CommonOptions {
  readonly dir: string;
  readonly json: boolean;
}

export interface AmountOptions {
  readonly minor: boolean;
}

/** Adds --dir (env SHARDLEDGER_DIR) and --json to a command that reads or writes a data dir. */
export function withDirOption(command: Command): Command {
  return command.addOption(
    new Option('-d, --dir <path>', 'the data dir').env('SHARDLEDGER_DIR').default(dirDefault),
  );
}

export function withJsonOption(command: Command): Command {
  return command.option(
    '--json',
    'print JSON for scripts (amounts: minor units as decimal strings)',
    false,
  );
}

export function withMinorOption(command: Command): Command {
  return command.option(
    '--minor',
    'amounts in raw minor units (1234) instead of major units (12.34)',
    false,
  );
}

/** Checks that `dir` holds a Shardledger data dir without creating or changing anything. */
export async function requireLedgerDir(dir: string): Promise<Manifest> {
  const info = await stat(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (info === undefined) {
    throw new CliError({ code: 'NOT_A_LEDGER', message: `no data dir at ${resolve(dir)}` });
  }
  if (!info.isDirectory()) {
    throw new CliError({ code: 'NOT_A_LEDGER', message: `${resolve(dir)} is not a directory` });
  }
  const manifest = await readManifest(dir);
  if (manifest === undefined) {
    throw new CliError({
      code: 'NOT_A_LEDGER',
      message: `${resolve(dir)} has no manifest.json: it is not a Shardledger data dir`,
    });
  }
  return manifest;
}

/** Opens an existing data dir (a dir, or Ledger.open's options with one), runs `body` and always
 * closes the ledger (releasing the lock). */
export async function withLedger<T>(
  at: string | LedgerOptions,
  body: (ledger: Ledger) => Promise<T>,
): Promise<T> {
  const options = typeof at === 'string' ? { dir: at } : at;
  await requireLedgerDir(options.dir);
  const ledger = await Ledger.open(options);
  try {
    return await body(ledger);
  } finally {
    await ledger.close();
  }
}

export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function printJson(value: unknown): void {
  print(toJson(value));
}

/** A positive safe integer from the command line. */
export function parseCount(text: string, what: string, options: { min?: number } = {}): number {
  const min = options.min ?? 1;
  if (!/^[0-9]+$/.test(text)) throw usageError(`${what} must be a whole number, got '${text}'`);
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min)
    throw usageError(`${what} must be at least ${min}, got '${text}'`);
  return value;
}

/** `key=value` pairs of repeated --metadata options. */
export function collectMetadata(
  pair: string,
  previous: Record<string, string> | undefined,
): Record<string, string> {
  const at = pair.indexOf('=');
  if (at <= 0) throw usageError(`--metadata wants key=value, got '${pair}'`);
  return { ...(previous ?? {}), [pair.slice(0, at)]: pair.slice(at + 1) };
}

/** Help text with examples, appended after the options of a command. */
export function examples(lines: readonly string[]): string {
  return `\nExamples:\n${lines.map((line) => `  ${line}`).join('\n')}\n`;
}
