// Goal: two processes never both write one data dir, even from separate PID namespaces (two containers on one volume), even past a deleted lock file. Method: real Ledger children started under `unshare -p -f --mount-proc`, driven line by line; one killed with SIGKILL, the lock file deleted to fool the lock.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ledger } from '../src/index.js';
import { tempDir } from '@shardledger/ledger-core/testing';

const fixture = fileURLToPath(new URL('./fixtures/fence-writer.mjs', import.meta.url));

/** A fence-writer child in a PID namespace of its own (it is pid 1 there), driven by lines. */
class NamespacedWriter {
  private readonly child: ChildProcess;
  private readonly lines: string[] = [];
  private waiting: ((line: string) => void) | null = null;
  readonly exited: Promise<void>;

  /** `pidsBefore`: processes started in the namespace before node, so that node's pid there is
   * pidsBefore + 2 (sh is 1). LMDB itself keys its reader table by pid, so two writers that share
   * one pid cannot even open one environment: the fence is tested with distinct pids. */
  constructor(dir: string, pidsBefore: number) {
    const script = `${'/bin/true; '.repeat(pidsBefore)}"$0" "$@"`;
    // --kill-child: if the test dies, the namespace's processes die with unshare.
    this.child = spawn(
      'unshare',
      [
        '-p',
        '-f',
        '--mount-proc',
        '--kill-child',
        'sh',
        '-c',
        script,
        process.execPath,
        fixture,
        dir,
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (this.waiting !== null) {
        const deliver = this.waiting;
        this.waiting = null;
        deliver(line);
      } else {
        this.lines.push(line);
      }
    });
  }

  /** The next line the child prints. */
  nextLine(): Promise<string> {
    const queued = this.lines.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      void this.exited.then(() => reject(new Error('the child exited before printing a line')));
    });
  }

  async send(line: string): Promise<string> {
    this.child.stdin?.write(`${line}\n`);
    return this.nextLine();
  }

  /** SIGKILLs the node process itself (unshare's grandchild, under sh) and resolves once unshare
   * exited: by then sh reaped node, so the kernel has closed every file node held. */
  async kill(): Promise<void> {
    let pid = this.child.pid as number;
    for (let depth = 0; depth < 2; depth += 1) {
      const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
      expect(children).toMatch(/^\d+$/);
      pid = Number(children);
    }
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain('fence-writer.mjs');
    process.kill(pid, 'SIGKILL');
    await this.exited;
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }
}

let dir: string;
let cleanup: () => Promise<void>;
const writers: NamespacedWriter[] = [];
function startWriter(): NamespacedWriter {
  const writer = new NamespacedWriter(dir, writers.length);
  writers.push(writer);
  return writer;
}

beforeEach(async () => {
  // Fail loudly, never skip: without unshare this test cannot say anything.
  const probe = spawnSync('unshare', ['-p', '-f', '--mount-proc', 'true'], { encoding: 'utf8' });
  expect(probe.error, 'unshare must be installed').toBeUndefined();
  expect(probe.status, `unshare -p must work here (as root): ${probe.stderr}`).toBe(0);
  ({ dir, cleanup } = await tempDir('fence'));
});
afterEach(async () => {
  for (const writer of writers.splice(0)) writer.stop();
  await cleanup();
});

describe('two writers on one data dir, in separate PID namespaces', () => {
  it('refuses the second with DIR_LOCKED while the first lives, and lets a third in once the first was killed', async () => {
    const first = startWriter();
    expect(await first.nextLine()).toBe('opened');
    const second = startWriter();
    expect(await second.nextLine()).toBe('refused DIR_LOCKED');
    await second.exited;
    expect((await first.send('write a 20')).split(' ').length).toBe(21);

    await first.kill();
    const third = startWriter();
    expect(await third.nextLine()).toBe('opened');
    const acked = await third.send('write a 20');
    expect(acked.split(' ').length).toBe(21);
    await third.send('close').catch(() => undefined);
    await third.exited;
  }, 60_000);

  it('refuses a second writer that got past a deleted lock file at its shards, while the first lives, and the first loses nothing', async () => {
    const first = startWriter();
    expect(await first.nextLine()).toBe('opened');
    const ackedIds: string[] = [];
    const firstBatch = await first.send('write a1 50');
    expect(firstBatch.startsWith('acked ')).toBe(true);
    ackedIds.push(...firstBatch.split(' ').slice(1));

    // Fool the lock: with its file gone, a newcomer locks a new file of the same name. Each shard
    // environment still lists the first writer among its readers: the newcomer's shards refuse
    // to open before writing anything.
    await rm(join(dir, 'LOCK.mdb'), { force: true });
    await rm(join(dir, 'LOCK.mdb-lock'), { force: true });
    const second = startWriter();
    expect(await second.nextLine()).toBe('refused DIR_LOCKED');
    await second.exited;

    const secondBatch = await first.send('write a2 50');
    expect(secondBatch.startsWith('acked ')).toBe(true);
    ackedIds.push(...secondBatch.split(' ').slice(1));
    expect(ackedIds.length).toBe(100);

    await first.kill();
    const ledger = await Ledger.open({ dir });
    try {
      const found = await ledger.lookupTransfers(ackedIds);
      expect(found.filter((record) => record === undefined).length).toBe(0);
      const [dst] = await ledger.lookupAccounts(['dst']);
      expect(dst?.creditsPosted).toBe(100n);
      expect((await ledger.verify()).ok).toBe(true);
    } finally {
      await ledger.close();
    }
  }, 60_000);
});
