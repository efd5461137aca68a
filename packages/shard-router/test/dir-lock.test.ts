// Goal: one process per data dir; a live owner blocks others (checked from child processes), a dead owner's lock is taken over.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLedgerError } from '@shardledger/ledger-core';
import { acquireDirLock, isProcessAlive, lockFileName, processStartTime } from '../src/dir-lock.js';

// Child processes run the compiled module: Node 20 cannot run the .ts source.
const compiledLock = fileURLToPath(new URL('../dist/dir-lock.js', import.meta.url));

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shardledger-lock-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `body` in a child Node process with `acquireDirLock` imported; resolves with its stdout
 * and how it ended. */
function runChild(body: string): Promise<{ stdout: string; code: number | null; signal: string | null }> {
  const script = `import { acquireDirLock } from ${JSON.stringify(compiledLock)};\nconst dir = ${JSON.stringify(dir)};\n${body}`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ stdout: stdout.trim(), code, signal }));
  });
}

/** The pid a LOCK file names (its first word). */
async function lockPid(): Promise<string> {
  return (await readFile(join(dir, lockFileName), 'utf8')).trim().split(' ')[0] ?? '';
}

/** A live process that is not us (a sleeping child); kill it when done. */
async function withLiveStranger(body: (pid: number) => Promise<void>): Promise<void> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  try {
    await new Promise((resolve) => child.once('spawn', resolve));
    await body(child.pid as number);
  } finally {
    child.kill('SIGKILL');
  }
}

describe('acquireDirLock', () => {
  it('makes a second open from another process fail with DIR_LOCKED while the owner lives', async () => {
    const lock = await acquireDirLock(dir);
    expect(await readFile(join(dir, lockFileName), 'utf8')).toBe(`${process.pid} ${processStartTime(process.pid)}\n`);
    const child = await runChild(`
      try { await acquireDirLock(dir); console.log('acquired'); }
      catch (error) { console.log(error.code + ' ' + error.detail.pid); }`);
    expect(child.stdout).toBe(`DIR_LOCKED ${process.pid}`);
    await lock.release();
  });

  it('takes over the stale lock of a process killed with SIGKILL', async () => {
    const child = await runChild(`
      await acquireDirLock(dir);
      console.log(process.pid);
      process.kill(process.pid, 'SIGKILL');`);
    expect(child.signal).toBe('SIGKILL');
    const deadPid = Number(child.stdout);
    expect(await lockPid()).toBe(String(deadPid));
    expect(isProcessAlive(deadPid)).toBe(false);

    const lock = await acquireDirLock(dir);
    expect(await lockPid()).toBe(String(process.pid));
    await lock.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a second lock of the same dir within one process until the first is released', async () => {
    const lock = await acquireDirLock(dir);
    let caught: unknown;
    try {
      await acquireDirLock(dir);
    } catch (error) {
      caught = error;
    }
    expect(isLedgerError(caught, 'DIR_LOCKED')).toBe(true);
    await lock.release();
    await lock.release();
    const again = await acquireDirLock(dir);
    await again.release();
  });

  it('takes over a lock naming our own pid that this process does not hold (a reused pid)', async () => {
    await writeFile(join(dir, lockFileName), `${process.pid}\n`);
    const lock = await acquireDirLock(dir);
    await lock.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('takes over a lock whose pid is alive but started at another time (the dead owner\'s pid, reused)', async () => {
    await withLiveStranger(async (pid) => {
      const start = processStartTime(pid);
      expect(start).toMatch(/^\d+$/);
      await writeFile(join(dir, lockFileName), `${pid} ${BigInt(start as string) + 1n}\n`);
      const lock = await acquireDirLock(dir);
      expect(await lockPid()).toBe(String(process.pid));
      await lock.release();
    });
  });

  it('refuses a lock whose pid and start time name a live process, and one of an older build naming a live pid', async () => {
    await withLiveStranger(async (pid) => {
      await writeFile(join(dir, lockFileName), `${pid} ${processStartTime(pid)}\n`);
      let caught: unknown;
      await acquireDirLock(dir).catch((error: unknown) => (caught = error));
      expect(isLedgerError(caught, 'DIR_LOCKED') && caught.detail['pid']).toBe(pid);
      await writeFile(join(dir, lockFileName), `${pid}\n`);
      caught = undefined;
      await acquireDirLock(dir).catch((error: unknown) => (caught = error));
      expect(isLedgerError(caught, 'DIR_LOCKED') && caught.detail['pid']).toBe(pid);
    });
  });

  it('takes over a lock file without a valid pid', async () => {
    await writeFile(join(dir, lockFileName), 'garbage');
    const lock = await acquireDirLock(dir);
    expect(await lockPid()).toBe(String(process.pid));
    await lock.release();
  });

  it('lets the child take the lock once the owner released it', async () => {
    const lock = await acquireDirLock(dir);
    await lock.release();
    const child = await runChild(`const lock = await acquireDirLock(dir); console.log('acquired'); await lock.release();`);
    expect(child.stdout).toBe('acquired');
  });
});
