// The machine and code a result came from: Node version, CPU, memory, commit.

import { execFileSync } from 'node:child_process';
import { cpus, release, totalmem } from 'node:os';

export interface Environment {
  readonly nodeVersion: string;
  readonly platform: string;
  readonly cpuModel: string;
  readonly cpuCount: number;
  readonly memoryBytes: number;
  readonly commit: string | null;
  /** True when the working tree had uncommitted changes. */
  readonly dirty: boolean | null;
  readonly batchSize: number;
}

export function captureEnvironment(options: { batchSize: number; cwd?: string }): Environment {
  const cpuList = cpus();
  return {
    nodeVersion: process.version,
    platform: `${process.platform} ${release()} ${process.arch}`,
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cpuCount: cpuList.length,
    memoryBytes: totalmem(),
    commit: git(['rev-parse', 'HEAD'], options.cwd),
    dirty: gitDirty(options.cwd),
    batchSize: options.batchSize,
  };
}

function git(args: string[], cwd: string | undefined): string | null {
  try {
    return execFileSync('git', args, {
      cwd: cwd ?? process.cwd(),
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

function gitDirty(cwd: string | undefined): boolean | null {
  const status = git(['status', '--porcelain', '--untracked-files=no'], cwd);
  return status === null ? null : status !== '';
}
