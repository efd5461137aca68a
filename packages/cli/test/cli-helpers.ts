// Helpers of the CLI tests: run the real built binary (dist/main.js) in a child process, in a
// temp working dir, and capture its exit code, stdout and stderr.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir as sharedTempDir } from '@shardledger/ledger-core/testing';
import { PartitionMap, readManifest } from '@shardledger/shard-router/internals';

export const mainPath = fileURLToPath(new URL('../dist/main.js', import.meta.url));

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node dist/main.js ...args` in `cwd` (SHARDLEDGER_DIR unset unless given). */
export function cli(
  cwd: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<CliRun> {
  const { SHARDLEDGER_DIR: _ignored, ...inherited } = process.env;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [mainPath, ...args],
      { cwd, env: { ...inherited, ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Parses stdout as JSON (fails the test with the output when it is not). */
export function json<T = unknown>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(
      `stdout is not JSON (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`,
    );
  }
}

/** Runs `shardledger bench ...args --quiet --json <file>` in `cwd` and reads the result file
 * (undefined when the run wrote none). */
export async function benchJson<T>(
  cwd: string,
  args: readonly string[],
): Promise<{ run: CliRun; result: T | undefined }> {
  const out = join(cwd, 'bench-result.json');
  const run = await cli(cwd, ['bench', ...args, '--quiet', '--json', out]);
  const text = await readFile(out, 'utf8').catch(() => undefined);
  return { run, result: text === undefined ? undefined : (JSON.parse(text) as T) };
}

/** A fresh temp dir `shardledger-cli-XXXXXX`; `cleanup` removes it. */
export function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  return sharedTempDir('cli');
}

/** `count` ids `${prefix}-N` that the data dir at `dir` places on one shard. */
export async function idsOnOneShard(dir: string, prefix: string, count: number): Promise<string[]> {
  const manifest = await readManifest(dir);
  if (manifest === undefined) throw new Error(`${dir} is not a ledger`);
  const map = new PartitionMap({ shards: manifest.shards, partitionMap: manifest.partitionMap });
  const ids: string[] = [];
  for (let index = 0; ids.length < count; index += 1) {
    if (map.shardOf(`${prefix}-${index}`) === 0) ids.push(`${prefix}-${index}`);
  }
  return ids;
}
