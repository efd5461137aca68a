// Goal: the data dir lock stays exclusive between processes of one pid number in separate PID namespaces (two containers on one volume, each running the ledger as pid 1): a refused one's close never frees the owner's reader slot. Method: real lock-contender children under `unshare -p -f` (pid 1 there) and in this namespace, driven by lines.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '@shardledger/ledger-core/testing';

const fixture = fileURLToPath(new URL('./fixtures/lock-contender.mjs', import.meta.url));

/** A lock-contender child: in a PID namespace of its own (where it is pid 1), or in this one. */
class Contender {
  private readonly child: ChildProcess;
  private readonly lines: string[] = [];
  private waiting: ((line: string) => void) | null = null;
  readonly exited: Promise<void>;

  constructor(dir: string, mode: 'lock' | 'read', namespaced: boolean) {
    const node = [process.execPath, fixture, dir, mode];
    // --kill-child: if the test dies, the namespace's process dies with unshare.
    const [command, ...args] = namespaced ? ['unshare', '-p', '-f', '--kill-child', ...node] : node;
    this.child = spawn(command as string, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const deliver = this.waiting;
      this.waiting = null;
      if (deliver === null) this.lines.push(line);
      else deliver(line);
    });
  }

  /** The next line the child prints, without its trailing pid, which must be `pid` if given. */
  async nextLine(pid?: number): Promise<string> {
    const queued = this.lines.shift();
    const line =
      queued ??
      (await new Promise<string>((resolve, reject) => {
        this.waiting = resolve;
        void this.exited.then(() => reject(new Error('the child exited before printing a line')));
      }));
    const words = line.split(' ');
    if (pid !== undefined) expect(Number(words.at(-1)), `pid of "${line}"`).toBe(pid);
    return words.slice(0, -1).join(' ');
  }

  async send(line: string, pid?: number): Promise<string> {
    this.child.stdin?.write(`${line}\n`);
    return this.nextLine(pid);
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }
}

let dir: string;
let cleanup: () => Promise<void>;
const children: Contender[] = [];
function start(mode: 'lock' | 'read', namespaced: boolean): Contender {
  const child = new Contender(dir, mode, namespaced);
  children.push(child);
  return child;
}

beforeEach(async () => {
  // Fail loudly, never skip: without unshare this test cannot say anything.
  const probe = spawnSync('unshare', ['-p', '-f', 'true'], { encoding: 'utf8' });
  expect(probe.error, 'unshare (util-linux) must be installed to run this test').toBeUndefined();
  expect(probe.status, `unshare -p must work here (it needs root): ${probe.stderr}`).toBe(0);
  ({ dir, cleanup } = await tempDir('lock-ns'));
});
afterEach(async () => {
  for (const child of children.splice(0)) child.stop();
  await cleanup();
});

describe('the data dir lock between PID namespaces', () => {
  it('stays held by its pid-1 owner after another pid 1 was refused, read the lock and closed', async () => {
    const owner = start('lock', true);
    expect(await owner.nextLine(1)).toBe('acquired');
    const second = start('lock', true);
    expect(await second.nextLine(1)).toBe('refused DIR_LOCKED');
    await second.exited;
    // The most a same-pid process can do: read outside a write transaction, which claims a reader
    // slot. LMDB takes the kernel lock at the pid first and claims no slot when that fails (the
    // owner holds pid 1's; lmdb-js retries for about 10 s), so its close has no slot to clear.
    const reader = start('read', true);
    expect(await reader.nextLine(1)).toBe('read-failed');
    await reader.exited;

    const third = start('lock', false);
    expect(await third.nextLine()).toBe('refused DIR_LOCKED');
    await third.exited;
    expect(await owner.send('release', 1)).toBe('released');
    await owner.exited;
    const fourth = start('lock', false);
    expect(await fourth.nextLine()).toBe('acquired');
    expect(await fourth.send('release')).toBe('released');
  }, 60_000);
});
