// Goal: a second writer that opens a shard while the first has several group commits in flight
// fences the first out completely: no commit of the older writer lands after the newer one's
// open, so the newer writer is never refused by the older one's leftovers and the log has no hole.
// Method: a real child process (fixtures/pipelined-writer.mjs, compiled package) keeps commits in
// flight; this process opens the same data dir as the second writer (the dir lock is the router's,
// so two engines can meet here, as two containers on one volume can), many rounds.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { isLedgerError, ShardEngine } from '../src/index.js';
import { tempDirs, transfer } from './fixtures/engine-fixtures.js';

const WRITER = fileURLToPath(new URL('./fixtures/pipelined-writer.mjs', import.meta.url));
const ROUNDS = 24;
const dirs = tempDirs('writer-fence-race-');
afterAll(() => dirs.cleanup());

/** The older writer: its acknowledged ids, how it stopped, and a promise of its exit. */
class OlderWriter {
  readonly acked: string[] = [];
  stoppedWith: string | null = null;
  stderr = '';
  readonly exited: Promise<void>;
  private ready: () => void = () => undefined;
  private acks = 0;
  private acksWanted = 0;
  private enough: () => void = () => undefined;
  private readonly child: ChildProcess;

  constructor(dir: string) {
    const child = spawn(process.execPath, [WRITER, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    let buffered = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
        this.onLine(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
      }
    });
    this.exited = new Promise((resolve) => child.once('close', () => resolve()));
    this.child = child;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }

  /** Resolves once `count` batches were acknowledged. */
  acknowledged(count: number): Promise<void> {
    this.acksWanted = count;
    return new Promise((resolve) => {
      this.enough = resolve;
      if (this.acks >= count) resolve();
    });
  }

  private onLine(line: string): void {
    const [word, first, count] = line.split(' ');
    if (word === 'ack') {
      const from = Number((first as string).slice(1));
      for (let index = 0; index < Number(count); index += 1)
        this.acked.push(`t${String(from + index).padStart(9, '0')}`);
      this.acks += 1;
      if (this.acks >= this.acksWanted) this.enough();
    } else if (word === 'stopped' || word === 'hung') {
      this.stoppedWith = `${word} ${first ?? ''}`;
    }
    this.ready();
  }
}

/** Opens the newer writer; its open's failure code, or the engine. */
async function openNewer(dir: string): Promise<ShardEngine | string> {
  try {
    return await ShardEngine.open({ dir, durability: 'strict', snapshotIntervalMs: 0 });
  } catch (error) {
    if (isLedgerError(error)) return error.code;
    throw error;
  }
}

describe('a second writer opening under pipelined commits', () => {
  it('fences the older writer out: the newer one is never refused and the log has no hole', async () => {
    const outcomes: string[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const dir = await dirs.make();
      const older = new OlderWriter(dir);
      await older.acknowledged(3 + (round % 5));
      const newer = await openNewer(dir);
      if (typeof newer === 'string') {
        older.kill();
        await older.exited;
        outcomes.push(`round ${round}: the newer writer's open failed with ${newer}`);
        continue;
      }
      await older.exited;
      try {
        expect({ stopped: older.stoppedWith, stderr: older.stderr }).toEqual({
          stopped: 'stopped WRITER_FENCED',
          stderr: '',
        });
        const found = await newer.lookupTransfers(older.acked);
        const missing = older.acked.filter((_, index) => found[index] === undefined);
        expect(
          missing.slice(0, 3),
          `of ${older.acked.length} acknowledged, ${missing.length} missing`,
        ).toEqual([]);
        // A retry of the older writer's last acknowledged transfer (the last of a batch: a to b)
        // is found, not written again.
        const retried = older.acked.at(-1) as string;
        const [retry] = await newer.submit([transfer(retried, 'a', 'b', 1n)]);
        expect(retry?.status).toBe('exists');
        const [result] = await newer.submit([transfer(`newer-${round}`, 'a', 'b', 1n)]);
        expect(result?.status).toBe('ok');
        expect((await newer.verify()).violations).toEqual([]);
      } finally {
        await newer.close();
      }
      const reopened = await ShardEngine.open({ dir, snapshotIntervalMs: 0 });
      try {
        expect((await reopened.verify()).violations).toEqual([]);
        expect(await reopened.lookupTransfers([`newer-${round}`])).toHaveLength(1);
      } finally {
        await reopened.close();
      }
    }
    expect(outcomes).toEqual([]);
  }, 240_000);
});
