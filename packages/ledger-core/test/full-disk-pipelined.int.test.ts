// Goal: on a full disk, a shard with several group commits in flight (each issued in its own event
// turn, as the shard worker issues them) fails every one of them with STORAGE_FULL: the commits
// queued behind the failed one are refused by the writer fence, and that refusal must not be
// reported as another writer (WRITER_FENCED), nor may any promise of the failed transaction go
// unhandled (it would end the shard's thread). Afterwards the log has no hole: reopened with
// space freed, every acknowledged transfer is there and verify() is clean. Method: a real engine
// on a small tmpfs filled up by a file.
import { execFileSync } from 'node:child_process';
import { statfsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLedgerError, ShardEngine, type Command } from '../src/index.js';
import { decodeResultBatch, encodeCommandBatch } from '../src/internals.js';
import { account, tempDirs, transfer } from './fixtures/engine-fixtures.js';

const dirs = tempDirs('full-disk-pipelined-');
let mountDir = '';

beforeAll(async () => {
  mountDir = await dirs.make();
  // Mounting needs root, as the test machines run it; a failure here fails the file.
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mountDir]);
});

afterAll(async () => {
  // Lazily: the failed engine's LMDB environment cannot finish closing in this process (lmdb-js
  // waits for a flush that never comes; ShardEngine.close says why), so the mount stays busy.
  execFileSync('umount', ['-l', mountDir]);
  await dirs.cleanup();
});

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);

/** `count` transfers between a and b, ids t<from> on. */
function batch(from: number, count: number): Command[] {
  return Array.from({ length: count }, (_, index) =>
    transfer(
      `t${String(from + index).padStart(8, '0')}`,
      index % 2 ? 'a' : 'b',
      index % 2 ? 'b' : 'a',
      1n,
    ),
  );
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('a full disk under pipelined commits', () => {
  it('fails every commit in flight with STORAGE_FULL and leaves no hole in the log', async () => {
    process.on('unhandledRejection', onUnhandled);
    const dataDir = join(mountDir, 'shard');
    const filler = join(mountDir, 'filler');
    const acked: string[] = [];
    const codes = new Map<string, number>();
    try {
      const engine = await ShardEngine.open({ dir: dataDir, snapshotIntervalMs: 0 });
      await engine.submit([account('a'), account('b')]);
      const fs = statfsSync(mountDir);
      await writeFile(filler, Buffer.alloc(Number(fs.bavail * fs.bsize) - 384 * 1024));
      let next = 0;
      for (let round = 0; round < 200 && codes.size === 0; round++) {
        const calls: Promise<void>[] = [];
        for (let call = 0; call < 4; call++) {
          const commands = batch(next, 300);
          next += commands.length;
          calls.push(
            engine.submitEncoded(encodeCommandBatch(commands)).then(
              (bytes) => {
                for (const result of decodeResultBatch(bytes)) expect(result.status).toBe('ok');
                acked.push(
                  ...commands.map(
                    (command) => (command as { transfer: { id: string } }).transfer.id,
                  ),
                );
              },
              (error: unknown) => {
                const code = isLedgerError(error) ? error.code : String(error);
                codes.set(code, (codes.get(code) ?? 0) + 1);
              },
            ),
          );
          // Each call in its own event turn: its own LMDB transaction, queued behind the last.
          await nextTurn();
        }
        await Promise.all(calls);
      }
      await engine.close().catch(() => undefined);
    } finally {
      await rm(filler, { force: true });
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).toEqual([]);
    expect(acked.length).toBeGreaterThan(0);
    expect([...codes.keys()]).toEqual(['STORAGE_FULL']);

    const reopened = await ShardEngine.open({ dir: dataDir, snapshotIntervalMs: 0 });
    try {
      const found = await reopened.lookupTransfers(acked);
      expect(found.filter((record) => record === undefined).length).toBe(0);
      expect((await reopened.verify()).violations).toEqual([]);
    } finally {
      await reopened.close();
    }
  }, 120_000);
});
