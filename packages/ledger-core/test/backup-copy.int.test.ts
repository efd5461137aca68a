// Goal: a shard's backup holds exactly the events through its cut, however many are written while it is copied, with the snapshots that end at or before the cut, and opens to the state at the cut. Method: real LMDB in temp dirs; writes and a snapshot committed between beginBackup and the copy's end; the copy opened as a ShardEngine.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ShardEngine, type Command } from '../src/index.js';
import { account, tempDirs, transfer } from './fixtures/engine-fixtures.js';

const dirs = tempDirs('backup-copy-');
const open: ShardEngine[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((engine) => engine.close()));
  await dirs.cleanup();
});

async function openEngine(dir: string): Promise<ShardEngine> {
  const engine = await ShardEngine.open({ dir, snapshotIntervalMs: 0 });
  open.push(engine);
  return engine;
}

function transfers(prefix: string, count: number): Command[] {
  return Array.from({ length: count }, (_, index) =>
    transfer(
      `${prefix}-${String(index).padStart(5, '0')}`,
      `a${index % 7}`,
      `a${(index + 3) % 7}`,
      BigInt(1 + (index % 50)),
    ),
  );
}

describe('ShardEngine.beginBackup', () => {
  it('copies exactly the events through its cut while writes and a snapshot go on, and the copy opens to the state at the cut', async () => {
    const base = await dirs.make();
    const engine = await openEngine(join(base, 'live'));
    await engine.submit(Array.from({ length: 7 }, (_, index) => account(`a${index}`)));
    for (let call = 0; call < 4; call += 1) await engine.submit(transfers(`before-${call}`, 500));
    const early = await engine.snapshot();
    await engine.submit(transfers('between', 500));
    const atCut = engine.info();

    const { sequence, done } = await engine.beginBackup(join(base, 'copy'));
    expect(sequence).toBe(atCut.lastSequence);
    // Committed while the copy is written: none of it may reach the copy.
    const after = transfers('after', 500);
    await engine.submit(after);
    const late = await engine.snapshot();
    expect(late.sequence).toBeGreaterThan(sequence);
    const info = await done;
    expect(info.sequenceAtLeast).toBe(sequence);
    expect(info.snapshots).toBe(1);

    const copy = await openEngine(join(base, 'copy'));
    const copied = copy.info();
    expect(copied.lastSequence).toBe(sequence);
    expect(copied.recoveredFromSnapshot).toBe(early.sequence);
    expect(copied.totals).toEqual(atCut.totals);
    expect(copied.accounts).toBe(atCut.accounts);
    expect(
      await copy.lookupTransfers(
        after.slice(0, 3).map((command) => (command as { transfer: { id: string } }).transfer.id),
      ),
    ).toEqual([undefined, undefined, undefined]);
    expect((await copy.lookupTransfers(['between-00499']))[0]?.state).toBe('posted');
    expect((await copy.verify()).ok).toBe(true);
  });

  it('refuses a dir that exists, writing nothing into it', async () => {
    const base = await dirs.make();
    const engine = await openEngine(join(base, 'live'));
    await engine.submit([account('a0')]);
    await expect(engine.beginBackup(base)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
