// Goal: recovery from snapshot + tail equals full replay, and bad snapshots are never trusted.
// Method: real LMDB dirs; snapshot files truncated, bit-flipped or copied ahead of the log on disk.
import {
  cpSync,
  existsSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ShardEngine,
  type AccountView,
  type Command,
  type ShardEngineOptions,
} from '../src/index.js';
import { createHash } from 'node:crypto';
import { decodeBody, snapshotPackr } from '../src/storage/snapshot-cut.js';
import { isSnapshotIdsHead } from '../src/storage/snapshot-ids.js';
import { encodeWholeBody } from '../src/storage/snapshot-store.js';
import {
  account,
  post,
  tempDirs,
  TestClock,
  transfer,
  voidPending,
} from './fixtures/engine-fixtures.js';

const dirs = tempDirs('snapshot-');
const open: ShardEngine[] = [];
const ACCOUNTS = Array.from({ length: 12 }, (_, index) => `acct-${index}`);

async function openEngine(
  dir: string,
  options: Partial<ShardEngineOptions> = {},
): Promise<ShardEngine> {
  const engine = await ShardEngine.open({ dir, snapshotIntervalMs: 0, ...options });
  open.push(engine);
  return engine;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((engine) => engine.close()));
  await dirs.cleanup();
});

/** A deterministic mixed round: plain transfers, holds posted, voided or left open. */
function round(tag: string, salt: number): Command[] {
  const commands: Command[] = [];
  for (let index = 0; index < 20; index += 1) {
    const debit = ACCOUNTS[(index * 5 + salt) % ACCOUNTS.length] as string;
    const credit = ACCOUNTS[(index * 7 + salt + 1) % ACCOUNTS.length] as string;
    if (debit === credit) continue;
    const amount = BigInt(1 + ((index * 31 + salt) % 97));
    if (index % 5 === 0) {
      commands.push(
        transfer(`${tag}-h${index}`, debit, credit, amount, {
          pending: true,
          timeoutMs: index % 10 === 0 ? 50 : 0,
        }),
      );
    } else commands.push(transfer(`${tag}-t${index}`, debit, credit, amount));
  }
  commands.push(post(`${tag}-post`, `${tag}-h5`, 1n), voidPending(`${tag}-void`, `${tag}-h15`));
  return commands;
}

async function seed(engine: ShardEngine): Promise<void> {
  await engine.submit(
    ACCOUNTS.map((id, index) =>
      account(id, index === 0 ? { debitsMustNotExceedCredits: true } : {}),
    ),
  );
}

async function balances(engine: ShardEngine): Promise<(AccountView | undefined)[]> {
  return engine.lookupAccounts(ACCOUNTS);
}

/** Writes the state, snapshots at two points, and returns what the accounts looked like at the end. */
async function twoSnapshots(
  dir: string,
  clock: TestClock,
): Promise<{
  first: number;
  second: number;
  end: (AccountView | undefined)[];
  lastSequence: number;
}> {
  const engine = await openEngine(dir, { clock: clock.read });
  await seed(engine);
  await engine.submit(round('a', 1));
  const first = (await engine.snapshot()).sequence;
  clock.advanceMs(10);
  await engine.submit(round('b', 2));
  const second = (await engine.snapshot()).sequence;
  clock.advanceMs(10);
  await engine.submit(round('c', 3));
  const end = await balances(engine);
  const lastSequence = engine.info().lastSequence;
  await engine.close();
  expect(first).toBeLessThan(second);
  expect(second).toBeLessThan(lastSequence);
  return { first, second, end, lastSequence };
}

function snapshotPath(dir: string, sequence: number): string {
  return join(dir, 'snapshots', `snapshot-${String(sequence).padStart(16, '0')}.bin`);
}

function flipByte(path: string, offset: number): void {
  const bytes = readFileSync(path);
  bytes[offset] = (bytes[offset] as number) ^ 0x40;
  writeFileSync(path, bytes);
}

describe('snapshot recovery', () => {
  it('recovers from a snapshot plus the log tail to the same state as a full replay', async () => {
    const clock = new TestClock();
    const dir = await dirs.make();
    const { second, end, lastSequence } = await twoSnapshots(dir, clock);
    const copy = await dirs.make();
    cpSync(dir, copy, { recursive: true });
    rmSync(join(copy, 'snapshots'), { recursive: true, force: true });

    const fromSnapshot = await openEngine(dir, { clock: clock.read });
    const fromLog = await openEngine(copy, { clock: clock.read });
    expect(fromSnapshot.info().recoveredFromSnapshot).toBe(second);
    expect(fromLog.info().recoveredFromSnapshot).toBeNull();
    expect(await balances(fromSnapshot)).toEqual(end);
    expect(await balances(fromLog)).toEqual(end);
    for (const engine of [fromSnapshot, fromLog]) {
      expect(engine.info()).toMatchObject({
        lastSequence,
        pendingOpen: fromLog.info().pendingOpen,
      });
      expect((await engine.verify()).ok).toBe(true);
    }
    // The recovered states behave alike too: the same commands, after the holds' deadlines, give
    // the same results and balances (open holds and their expiries came back from the snapshot).
    clock.advanceMs(1_000);
    const next = [...round('d', 4), post('late', 'b-h0'), post('late2', 'c-h5')];
    const results = await fromSnapshot.submit(next);
    expect(await fromLog.submit(next)).toEqual(results);
    expect(results.some((result) => result.status === 'pending_expired')).toBe(true);
    expect(await balances(fromSnapshot)).toEqual(await balances(fromLog));
  });

  it('skips a truncated snapshot and recovers from the older one with the right balances', async () => {
    const clock = new TestClock();
    const dir = await dirs.make();
    const { first, second, end } = await twoSnapshots(dir, clock);
    const path = snapshotPath(dir, second);
    truncateSync(path, Math.floor(statSync(path).size / 2));
    const engine = await openEngine(dir, { clock: clock.read });
    expect(engine.info().recoveredFromSnapshot).toBe(first);
    expect(await balances(engine)).toEqual(end);
    expect((await engine.verify()).ok).toBe(true);
  });

  it('skips a snapshot with a flipped byte in the middle, or in its header, and falls back to full replay when none is valid', async () => {
    const clock = new TestClock();
    const dir = await dirs.make();
    const { first, second, end } = await twoSnapshots(dir, clock);
    const newest = snapshotPath(dir, second);
    flipByte(newest, Math.floor(statSync(newest).size / 2));
    let engine = await openEngine(dir, { clock: clock.read });
    expect(engine.info().recoveredFromSnapshot).toBe(first);
    expect(await balances(engine)).toEqual(end);
    await engine.close();

    // The sequence number in the header (offset 8) disagrees with the payload.
    flipByte(snapshotPath(dir, first), 8);
    engine = await openEngine(dir, { clock: clock.read });
    expect(engine.info().recoveredFromSnapshot).toBeNull();
    expect(await balances(engine)).toEqual(end);
    expect((await engine.verify()).ok).toBe(true);
  });

  /** A dir whose log lost round b (as after a power cut) while the snapshot taken after round b
   * survived in its snapshots dir: `foreign`, at `taken` > `copySequence`. */
  async function snapshotAheadOfLog(clock: TestClock): Promise<{
    behind: string;
    atCopy: (AccountView | undefined)[];
    copySequence: number;
    taken: number;
    foreign: string;
  }> {
    const behind = await dirs.make();
    let engine = await openEngine(behind, { clock: clock.read });
    await seed(engine);
    await engine.submit(round('a', 1));
    const atCopy = await balances(engine);
    const copySequence = engine.info().lastSequence;
    await engine.close();
    const ahead = await dirs.make();
    cpSync(behind, ahead, { recursive: true });

    engine = await openEngine(ahead, { clock: clock.read });
    clock.advanceMs(10);
    await engine.submit(round('b', 2));
    const taken = await engine.snapshot();
    expect(taken.sequence).toBeGreaterThan(copySequence);
    await engine.close();
    const foreign = join(behind, 'snapshots', basename(taken.file));
    cpSync(taken.file, foreign);
    return { behind, atCopy, copySequence, taken: taken.sequence, foreign };
  }

  it('ignores a snapshot whose sequence is ahead of the log', async () => {
    const clock = new TestClock();
    const { behind, atCopy, copySequence } = await snapshotAheadOfLog(clock);
    const engine = await openEngine(behind, { clock: clock.read });
    expect(engine.info().recoveredFromSnapshot).toBeNull();
    expect(engine.info().lastSequence).toBe(copySequence);
    expect(await balances(engine)).toEqual(atCopy);
    expect((await engine.verify()).ok).toBe(true);
  });

  it('moves a snapshot ahead of the log aside at open (kept, not deleted), before the log grows past it with other events', async () => {
    const clock = new TestClock();
    const { behind, taken, foreign } = await snapshotAheadOfLog(clock);
    let engine = await openEngine(behind, { clock: clock.read });
    expect(existsSync(foreign)).toBe(false);
    expect(existsSync(join(behind, 'snapshots', 'ahead-of-log', basename(foreign)))).toBe(true);
    // Other events now take the sequence numbers the snapshot covered, and go past it.
    clock.advanceMs(10);
    await engine.submit(round('x', 7));
    await engine.submit(round('y', 8));
    expect(engine.info().lastSequence).toBeGreaterThan(taken);
    const end = await balances(engine);
    await engine.close();

    engine = await openEngine(behind, { clock: clock.read });
    expect(await balances(engine)).toEqual(end);
    expect((await engine.verify()).ok).toBe(true);
  });

  it('does not trust a snapshot of another log (another shard or ledger) at a sequence this log has', async () => {
    const clock = new TestClock();
    const mine = await dirs.make();
    let engine = await openEngine(mine, { clock: clock.read });
    await seed(engine);
    await engine.submit(round('a', 1));
    await engine.submit(round('b', 2));
    const end = await balances(engine);
    const lastSequence = engine.info().lastSequence;
    await engine.close();
    const theirs = await dirs.make();
    engine = await openEngine(theirs, { clock: clock.read });
    await seed(engine);
    await engine.submit(round('z', 9));
    const taken = await engine.snapshot();
    await engine.close();
    expect(taken.sequence).toBeLessThanOrEqual(lastSequence);
    expect(await balances(await openEngine(theirs, { clock: clock.read }))).not.toEqual(end);
    cpSync(taken.file, join(mine, 'snapshots', basename(taken.file)));

    engine = await openEngine(mine, { clock: clock.read });
    expect(engine.info().recoveredFromSnapshot).toBeNull();
    expect(await balances(engine)).toEqual(end);
    expect((await engine.verify()).ok).toBe(true);
  });

  /** A body as a build of `format` wrote it: for SLSNAP03 its values without the id filters,
   * for the older two the whole payload as one value. */
  function olderBody(format: 'SLSNAP01' | 'SLSNAP02' | 'SLSNAP03', body: Buffer): Buffer {
    if (format !== 'SLSNAP03') {
      const { ids, ...payload } = decodeBody(body);
      expect(ids).toBeDefined();
      return encodeWholeBody(payload);
    }
    const values = snapshotPackr.unpackMultiple(body) as unknown[];
    const kept = values.slice(0, values.findIndex(isSnapshotIdsHead));
    expect(kept.length).toBeGreaterThan(0);
    return Buffer.concat(kept.map((value) => snapshotPackr.pack(value)));
  }

  for (const format of ['SLSNAP01', 'SLSNAP02', 'SLSNAP03'] as const) {
    const shape =
      format === 'SLSNAP03'
        ? 'no id filters'
        : `its payload one msgpack value${format === 'SLSNAP01' ? ', no log record digest, trusted on its checksum' : ''}`;
    it(`still reads a snapshot of an older format (${format}: ${shape})`, async () => {
      const clock = new TestClock();
      const dir = await dirs.make();
      let engine = await openEngine(dir, { clock: clock.read });
      await seed(engine);
      await engine.submit(round('a', 1));
      const taken = await engine.snapshot();
      clock.advanceMs(10);
      await engine.submit(round('b', 2));
      const end = await balances(engine);
      await engine.close();
      // The same snapshot as an older build wrote it: for SLSNAP01 the header without the 32
      // bytes of the log record's digest.
      const bytes = readFileSync(taken.file);
      expect(bytes.subarray(0, 8).toString('latin1')).toBe('SLSNAP04');
      const body = olderBody(format, bytes.subarray(88));
      const header = Buffer.alloc(24);
      header.write(format, 0, 'latin1');
      header.writeDoubleLE(taken.sequence, 8);
      header.writeDoubleLE(body.length, 16);
      const digest = createHash('sha256').update(body).digest();
      const logDigest = format === 'SLSNAP01' ? Buffer.alloc(0) : bytes.subarray(56, 88);
      writeFileSync(taken.file, Buffer.concat([header, digest, logDigest, body]));

      engine = await openEngine(dir, { clock: clock.read });
      expect(engine.info().recoveredFromSnapshot).toBe(taken.sequence);
      // No filters kept: the open read every stored id, as before.
      expect(engine.info().idFiltersFromSnapshot).toBe(false);
      expect(await balances(engine)).toEqual(end);
      expect((await engine.verify()).ok).toBe(true);
    });
  }

  it('reports the pause, size and sequence of a snapshot it takes', async () => {
    // A frozen clock: some holds time out after 50 ms, which a loaded machine can exceed.
    const clock = new TestClock();
    const engine = await openEngine(await dirs.make(), { clock: clock.read });
    await seed(engine);
    await engine.submit(round('a', 1));
    const writing = engine.submit(round('b', 2));
    const taken = await engine.snapshot();
    await writing;
    expect(Number.isFinite(taken.pauseMs)).toBe(true);
    expect(taken.pauseMs).toBeGreaterThanOrEqual(0);
    expect(taken.sizeBytes).toBe(statSync(taken.file).size);
    expect(taken.sequence).toBe(engine.info().lastSequence);
    expect(engine.info().snapshots[0]).toEqual({
      sequence: taken.sequence,
      sizeBytes: taken.sizeBytes,
    });
  });

  it('takes a snapshot by itself every snapshotIntervalEvents events and keeps at most three', async () => {
    const dir = await dirs.make();
    const clock = new TestClock();
    const engine = await openEngine(dir, { snapshotIntervalEvents: 40, clock: clock.read });
    await seed(engine);
    for (let index = 0; index < 8; index += 1) await engine.submit(round(`r${index}`, index));
    const end = await balances(engine);
    await engine.close();
    const reopened = await openEngine(dir, { clock: clock.read });
    const snapshots = reopened.info().snapshots;
    expect(snapshots.length).toBeGreaterThan(0);
    expect(snapshots.length).toBeLessThanOrEqual(3);
    expect(reopened.info().recoveredFromSnapshot).toBe(snapshots[0]?.sequence);
    expect(await balances(reopened)).toEqual(end);
  });
});
