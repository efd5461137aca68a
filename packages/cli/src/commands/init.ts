// `shardledger init`: the only command that creates a data dir. Fixes the shard count forever.

import { mkdir, readdir, rmdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { Ledger, limits } from '@shardledger/shard-router';
import { readManifest, shardCountDefault } from '@shardledger/shard-router/internals';
import {
  examples,
  parseCount,
  print,
  printJson,
  withDirOption,
  withJsonOption,
  type CommonOptions,
} from '../context.js';
import { CliError } from '../errors.js';
import { formatFields } from '../format.js';

interface InitOptions extends CommonOptions {
  readonly shards?: string;
}

export function registerInit(program: Command): void {
  const command = program
    .command('init')
    .description(
      'create a data dir (an existing data dir with the same shard count is left as it is)',
    )
    .option(
      '-s, --shards <n>',
      `shards, fixed for the life of the dir, 1..${limits.shardCountMax} (default: ${shardCountDefault}, the count measured fastest for pairs drawn from all accounts)`,
    );
  withDirOption(command);
  withJsonOption(command);
  command.addHelpText(
    'after',
    examples([
      'shardledger init --shards 4                    # ./shardledger-data with 4 shards',
      'shardledger init --dir /var/lib/ledger --shards 8',
      'SHARDLEDGER_DIR=/tmp/l shardledger init --json',
    ]),
  );
  command.action(async (options: InitOptions) => {
    const shards =
      options.shards === undefined ? undefined : parseCount(options.shards, '--shards');
    if (shards !== undefined && shards > limits.shardCountMax) {
      throw new CliError({
        code: 'USAGE_ERROR',
        message: `--shards must be at most ${limits.shardCountMax}, got ${shards}`,
      });
    }
    const existing = await readManifest(options.dir);
    const created = await createDir(options.dir);
    let ledger: Ledger;
    try {
      ledger = await Ledger.open({
        dir: options.dir,
        shards: shards ?? existing?.shards ?? shardCountDefault,
      });
    } catch (error) {
      if (created) await removeIfEmpty(options.dir);
      throw error;
    }
    const info = await ledger.info().finally(() => ledger.close());
    const result = {
      dir: resolve(options.dir),
      created: existing === undefined,
      shards: info.shards,
      partitionCount: info.partitionCount,
      hash: info.hash,
    };
    if (options.json) return printJson(result);
    print(`${result.created ? 'created' : 'already a ledger:'} ${result.dir}`);
    print(
      formatFields([
        ['shards', String(result.shards)],
        ['partitions', String(result.partitionCount)],
        ['hash', result.hash],
      ]),
    );
  });
}

/** Creates the dir when missing; true when this call created it. */
async function createDir(dir: string): Promise<boolean> {
  const before = await readdir(dir).then(
    () => true,
    () => false,
  );
  await mkdir(dir, { recursive: true });
  return !before;
}

async function removeIfEmpty(dir: string): Promise<void> {
  const entries = await readdir(dir).catch(() => ['?']);
  if (entries.length === 0) await rmdir(dir).catch(() => undefined);
}
