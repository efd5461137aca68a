// Goal: one process per data dir, held by a kernel lock on a file: a live owner blocks other processes, worker threads and second opens in-process; a dead owner's lock is free at once. Method: child processes and a worker thread on a real temp dir.
import { spawn } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { tempDir } from '@shardledger/ledger-core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLedgerError, type LedgerError } from '@shardledger/ledger-core';
import { hostname } from 'node:os';
import { open } from 'lmdb';
import {
  acquireDirLock,
  legacyLockFileNames,
  lockFileName,
  lockTableFileName,
} from '../src/dir-lock.js';
import { readerPids } from '@shardledger/ledger-core/internals';

// Child processes run the compiled module: Node 20 cannot run the .ts source.
const compiledLock = fileURLToPath(new URL('../dist/dir-lock.js', import.meta.url));

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir('lock'));
});
afterEach(async () => {
  await cleanup();
});

/** Runs `body` in a child Node process with `acquireDirLock` imported; resolves with its stdout
 * and how it ended. */
function runChild(
  body: string,
): Promise<{ stdout: string; code: number | null; signal: string | null }> {
  const script = `import { acquireDirLock } from ${JSON.stringify(compiledLock)};\nconst dir = ${JSON.stringify(dir)};\n${body}`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ stdout: stdout.trim(), code, signal }));
  });
}

const tryLock = `try { const lock = await acquireDirLock(dir); console.log('acquired'); await lock.release(); }
  catch (error) { console.log(error.code); }`;

async function errorOf(promise: Promise<unknown>): Promise<LedgerError> {
  try {
    await promise;
  } catch (error) {
    if (isLedgerError(error)) return error;
    throw error;
  }
  throw new Error('resolved');
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return isLedgerError(error) ? error.code : String(error);
  }
}

describe('acquireDirLock', () => {
  it('makes a second open from another process fail with DIR_LOCKED while the owner lives', async () => {
    const lock = await acquireDirLock(dir);
    expect((await runChild(tryLock)).stdout).toBe('DIR_LOCKED');
    await lock.release();
    expect((await runChild(tryLock)).stdout).toBe('acquired');
  });

  it('frees the lock of a process killed with SIGKILL while holding it, with no manual step', async () => {
    const child = await runChild(`
      await acquireDirLock(dir);
      console.log('held');
      process.kill(process.pid, 'SIGKILL');`);
    expect(child.signal).toBe('SIGKILL');
    expect(child.stdout).toBe('held');
    const lock = await acquireDirLock(dir);
    await lock.release();
  });

  it('refuses a second lock of the same dir within one process until the first is released', async () => {
    const lock = await acquireDirLock(dir);
    expect(await codeOf(acquireDirLock(dir))).toBe('DIR_LOCKED');
    await lock.release();
    await lock.release();
    const again = await acquireDirLock(dir);
    await again.release();
  });

  it('still refuses other processes after a second open in this process was refused and closed', async () => {
    const lock = await acquireDirLock(dir);
    expect(await codeOf(acquireDirLock(dir))).toBe('DIR_LOCKED');
    expect(await codeOf(acquireDirLock(dir))).toBe('DIR_LOCKED');
    expect((await runChild(tryLock)).stdout).toBe('DIR_LOCKED');
    await lock.release();
    expect((await runChild(tryLock)).stdout).toBe('acquired');
  });

  it('refuses the lock to a worker thread of the owning process (a second module instance)', async () => {
    const lock = await acquireDirLock(dir);
    const source = `import { parentPort, workerData } from 'node:worker_threads';
      import { acquireDirLock } from ${JSON.stringify(pathToFileURL(compiledLock).href)};
      try { await acquireDirLock(workerData); parentPort.postMessage('acquired'); }
      catch (error) { parentPort.postMessage(error.code + ' ' + error.message); }`;
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`), {
      workerData: dir,
    });
    const answer = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(answer).toMatch(/^DIR_LOCKED .*already open in this process/);
    await lock.release();
  });

  it('says the dir is already open in this process when this process holds it', async () => {
    const lock = await acquireDirLock(dir);
    const refused = await errorOf(acquireDirLock(dir));
    expect(refused.code).toBe('DIR_LOCKED');
    expect(refused.message).toMatch(/already open in this process/);
    expect(refused.detail['holder']).toBe('this process');
    await lock.release();
  });

  it('names the pid of the other process that holds the dir', async () => {
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { acquireDirLock } from ${JSON.stringify(compiledLock)};
        await acquireDirLock(${JSON.stringify(dir)});
        console.log('held');
        setInterval(() => undefined, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', () => reject(new Error('the child exited before taking the lock')));
      });
      const refused = await errorOf(acquireDirLock(dir));
      expect(refused.code).toBe('DIR_LOCKED');
      expect(refused.message).toContain(`open in process ${child.pid} on ${hostname()}`);
      expect(refused.message).not.toMatch(/this process/);
      expect(refused.detail['pid']).toBe(child.pid);
    } finally {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('close', resolve));
    }
    const lock = await acquireDirLock(dir);
    await lock.release();
  });

  it('ignores the lock files of older builds, whatever pid they name', async () => {
    for (const name of legacyLockFileNames)
      await writeFile(join(dir, name), `${process.pid} 12345\n`);
    const lock = await acquireDirLock(dir);
    await lock.release();
  });

  it('leaves only the lock environment in the dir, and no holder named in it after release', async () => {
    const lock = await acquireDirLock(dir);
    await lock.release();
    expect((await readdir(dir)).sort()).toEqual([lockFileName, lockTableFileName]);
    const env = open<unknown, string>({
      path: join(dir, lockFileName),
      noSubdir: true,
      encoding: 'json',
    });
    expect(env.get('holder')).toBeUndefined();
    await env.close();
  });

  it('takes over the record of a dead holder whose pid this process now has', async () => {
    const env = open<unknown, string>({
      path: join(dir, lockFileName),
      noSubdir: true,
      encoding: 'json',
    });
    await env.put('holder', { pid: process.pid, host: hostname(), token: 'a dead process' });
    await env.close();
    const lock = await acquireDirLock(dir);
    await lock.release();
  });
});

describe('readerPids', () => {
  it("reads the pids of lmdb-js's reader table listing", () => {
    const listing =
      '\t\tpid\t\t thread\t\t txnid\n     21165 7fccebad5c80 0\n        42 7f07f1e73c80 -\n';
    expect([...readerPids(listing)]).toEqual([21165, 42]);
    expect(readerPids('(no active readers)\n').size).toBe(0);
  });
});
