// Goal: random-id transfers, which the lane keeps in sorted runs that later commits merge (in
// memory only until a run is too large to merge again), are found by every lookup after any number
// of merges, while open and after reopening: by lookup, and as 'exists' when a retry sends one
// again (a lost id would post its money twice). Method: a
// real engine on a temp dir; many small calls of random UUIDv4 ids through submitEncoded (each
// call is one commit and one run), so that runs merge over three levels; then close, reopen and
// look.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { open as openLmdb } from 'lmdb';
import { afterAll, describe, expect, it } from 'vitest';
import { limits, ShardEngine, type Command } from '../src/index.js';
import { decodeResultBatch, encodeCommandBatch } from '../src/internals.js';
import { account, transfer, tempDirs } from './fixtures/engine-fixtures.js';

const dirs = tempDirs('scattered-runs-');
afterAll(() => dirs.cleanup());

const ACCOUNTS = ['a', 'b', 'c', 'd'];
/** Transfers per call: each call commits one run. */
const CALL = 20;
/** Calls: past fanout^3 runs, so that runs of three levels merge. */
const CALLS = limits.scatteredRunFanout ** 3 + 40;

/** The transfer of `id`, the `index`-th id sent: its accounts follow from its index. */
function transferOf(id: string, index: number): Command {
  return transfer(
    id,
    ACCOUNTS[index % ACCOUNTS.length] as string,
    ACCOUNTS[(index + 1) % ACCOUNTS.length] as string,
    BigInt(1 + (index % 7)),
  );
}

async function statuses(engine: ShardEngine, commands: Command[]): Promise<string[]> {
  const results = decodeResultBatch(await engine.submitEncoded(encodeCommandBatch(commands)));
  return results.map((result) => result.status);
}

/** Every id is found with its own amount and accounts, and a retry of a sample is 'exists'. */
async function expectAllFound(engine: ShardEngine, ids: readonly string[]): Promise<void> {
  const found = await engine.lookupTransfers(ids);
  const wrong = found.filter((record, index) => {
    const expected = transferOf(ids[index] as string, index);
    if (expected.type !== 'CreateTransfer') return true;
    return (
      record?.id !== ids[index] ||
      record?.amount !== expected.transfer.amount ||
      record?.debitAccountId !== expected.transfer.debitAccountId
    );
  });
  expect(wrong.length).toBe(0);
  const retries = ids.flatMap((id, index) => (index % 97 === 0 ? [transferOf(id, index)] : []));
  expect(new Set(await statuses(engine, retries))).toEqual(new Set(['exists']));
  expect((await engine.lookupTransfers([randomUUID()]))[0]).toBeUndefined();
}

/** Sends `calls` calls of `size` new random-id transfers each (a commit each), noting their ids
 * in `ids`: every one is accepted. */
async function sendCalls(
  engine: ShardEngine,
  ids: string[],
  calls: number,
  size: number,
): Promise<void> {
  for (let call = 0; call < calls; call += 1) {
    const commands = Array.from({ length: size }, () => {
      const id = randomUUID();
      ids.push(id);
      return transferOf(id, ids.length - 1);
    });
    expect(new Set(await statuses(engine, commands))).toEqual(new Set(['ok']));
  }
}

/** A new engine on a new dir, holding the test's accounts. */
async function newEngine(): Promise<{ dir: string; engine: ShardEngine }> {
  const dir = await dirs.make();
  const engine = await ShardEngine.open({ dir, snapshotIntervalMs: 0 });
  await engine.submit(ACCOUNTS.map((id) => account(id)));
  return { dir, engine };
}

describe('sorted runs of random-id transfers', () => {
  it('find every transfer after merges over three levels, open and after reopening', async () => {
    const opened = await newEngine();
    const dir = opened.dir;
    let engine = opened.engine;
    const ids: string[] = [];
    await sendCalls(engine, ids, CALLS, CALL);
    // The lane took them (the filter's rare false positives go through decide instead).
    expect(engine.plainLaneTransfers).toBeGreaterThan(ids.length * 0.99);
    // Merged: far fewer runs than calls (each call wrote one).
    const runs = (await engine.info()).scatteredRuns;
    expect(runs).toBeGreaterThan(0);
    expect(runs).toBeLessThan(4 * limits.scatteredRunFanout);
    await expectAllFound(engine, ids);
    await engine.close();

    engine = await ShardEngine.open({ dir, snapshotIntervalMs: 0 });
    try {
      // Runs a later merge would take were kept in memory only; the open found their transfers
      // in the log again and wrote their entries. Only the runs too large to merge are stored.
      const stored = (await engine.info()).scatteredRuns;
      expect(stored).toBeGreaterThan(0);
      expect(stored).toBeLessThan(runs);
      await expectAllFound(engine, ids);
      const report = await engine.verify();
      expect(report.violations).toEqual([]);
    } finally {
      await engine.close();
    }
  }, 120_000);

  it('spreads a large merge over commits: found during it, and after a stop half-way', async () => {
    const opened = await newEngine();
    const dir = opened.dir;
    let engine = opened.engine;
    const ids: string[] = [];
    const call = (): Promise<void> => sendCalls(engine, ids, 1, CALL);
    // Runs of CALL transfers: the first merge of the third level takes fanout^3 * CALL (10,240)
    // transfers, more than one step copies, so it stays open over several commits.
    let openCalls = 0;
    for (let calls = 0; calls < CALLS && openCalls < 2; calls += 1) {
      await call();
      if ((await engine.info()).scatteredMergeEntries > 4_096) {
        openCalls += 1;
        await expectAllFound(engine, ids);
      }
    }
    expect(openCalls).toBe(2);
    await engine.close();
    // Stopped half-way: the merge's chunks so far are stored without a head.
    const headless = orphanRunKeys(dir);
    expect(headless.length).toBe(1);

    engine = await ShardEngine.open({ dir, snapshotIntervalMs: 0 });
    try {
      await expectAllFound(engine, ids);
      for (let calls = 0; calls < 8; calls += 1) await call();
      await expectAllFound(engine, ids);
      const report = await engine.verify();
      expect(report.violations).toEqual([]);
    } finally {
      await engine.close();
    }
    // The next commit after the reopen removed them (a merge made again has a new key).
    const after = orphanRunKeys(dir);
    expect(after.filter((key) => headless.includes(key))).toEqual([]);
  }, 120_000);
});

describe("verify's audit of random ids", () => {
  it('names exactly the ids of a run lost from the index, and only those', async () => {
    const opened = await newEngine();
    const dir = opened.dir;
    let engine = opened.engine;
    const ids: string[] = [];
    await sendCalls(engine, ids, CALLS, CALL);
    // Holds (the transfers db) and ordered ids (plain runs) beside them: the audit's other places.
    const holds = Array.from({ length: 50 }, () =>
      transfer(`hold-${randomUUID()}`, 'a', 'b', 1n, { pending: true, timeoutMs: 0 }),
    );
    const ordered = Array.from({ length: 300 }, (_, at) =>
      transfer(`ord-${String(at).padStart(6, '0')}`, 'c', 'd', 1n),
    );
    expect(new Set(await statuses(engine, [...holds, ...ordered]))).toEqual(new Set(['ok']));
    expect((await engine.verify()).violations).toEqual([]);
    await engine.close();
    // A stored run removed from the file, head and chunks: its ids are lost from the index.
    const lost = removeLargestStoredRun(dir);
    expect(lost).toBeGreaterThan(1_000);

    engine = await ShardEngine.open({ dir, snapshotIntervalMs: 0 });
    try {
      const report = await engine.verify();
      expect(report.ok).toBe(false);
      const unindexed = report.violations.filter(({ rule }) => rule === 'transfer_indexed');
      const listed = unindexed.filter(({ detail }) => detail.startsWith('transfer "'));
      const more = unindexed.find(({ detail }) => /^\d+ more /.test(detail));
      expect(listed.length + Number(more?.detail.split(' ')[0] ?? 0)).toBe(lost);
      for (const { detail } of listed) {
        const id = /^transfer "([^"]+)"/.exec(detail)?.[1] as string;
        expect(ids).toContain(id);
        // The lookup the decider uses misses it too: a retry would be taken as new.
        expect((await engine.lookupTransfers([id]))[0]).toBeUndefined();
      }
    } finally {
      await engine.close();
    }
  }, 120_000);

  it('finds nothing wrong while commits add and merge runs under it', async () => {
    const { engine } = await newEngine();
    const ids: string[] = [];
    await sendCalls(engine, ids, 200, CALL);
    let writing = true;
    const writer = (async () => {
      while (writing) await sendCalls(engine, ids, 1, 3);
    })();
    const reports = [];
    try {
      for (let round = 0; round < 8; round += 1) reports.push(await engine.verify());
    } finally {
      writing = false;
      await writer;
    }
    expect(reports.flatMap((report) => report.violations)).toEqual([]);
    const last = await engine.verify();
    expect(last.violations).toEqual([]);
    expect(last.eventsReplayed).toBe(ACCOUNTS.length + ids.length);
    await engine.close();
  }, 120_000);
});

/** Removes the largest run stored in a closed shard's scattered runs db, head and chunks, and
 * returns how many transfers it held. */
function removeLargestStoredRun(dir: string): number {
  const env = openLmdb({ path: join(dir, 'events.mdb'), noSubdir: true, maxDbs: 12 });
  try {
    const runs = env.openDB<Buffer, [number, number]>({
      name: 'scatteredRuns',
      encoding: 'binary',
    });
    let largest: { key: number; count: number } | null = null;
    for (const { key, value } of runs.getRange({ start: [0, 0] })) {
      if (key[1] !== 0) continue;
      const count = value.readUInt32LE(3);
      if (largest === null || count > largest.count) largest = { key: key[0], count };
    }
    if (largest === null) throw new Error('no stored run');
    const key = largest.key;
    env.transactionSync(() => {
      for (const stored of [...runs.getKeys({ start: [key, 0], end: [key + 1, 0] })])
        runs.removeSync(stored);
    });
    return largest.count;
  } finally {
    void env.close();
  }
}

/** What `read` reads straight from a closed shard's LMDB file. */
function readClosedShard<T>(dir: string, read: (env: ReturnType<typeof openLmdb>) => T): T {
  const env = openLmdb({
    path: join(dir, 'events.mdb'),
    noSubdir: true,
    readOnly: true,
    maxDbs: 12,
  });
  try {
    return read(env);
  } finally {
    void env.close();
  }
}

/** DEFERRED_FROM as stored in a closed shard dir: the least sequence whose transfers may be in
 * memory only, or undefined. */
function storedDeferredFrom(dir: string): number | undefined {
  return readClosedShard(dir, (env) =>
    env.openDB<number, string>({ name: 'meta', encoding: 'msgpack' }).get('deferredFrom'),
  );
}

describe('runs kept in memory only', () => {
  it('are written within 512 commits, so that an open reads the log only that far back', async () => {
    const { dir, engine } = await newEngine();
    // One transfer per commit: runs of 1 merge over five levels before one is too large to merge
    // again, far more commits than any run may stay in memory.
    const ids: string[] = [];
    await sendCalls(engine, ids, 700, 1);
    const last = (await engine.info()).lastSequence;
    await engine.close();
    const deferredFrom = storedDeferredFrom(dir);
    expect(deferredFrom).toBeDefined();
    expect(last - (deferredFrom as number)).toBeLessThan(513);
    const reopened = await ShardEngine.open({ dir, snapshotIntervalMs: 0 });
    try {
      await expectAllFound(reopened, ids);
    } finally {
      await reopened.close();
    }
    // The open wrote what it found in the log again, and removed the key.
    expect(storedDeferredFrom(dir)).toBeUndefined();
  }, 120_000);
});

/** Keys of the scattered runs db that have chunks but no head, read straight from the closed
 * shard's LMDB file. */
function orphanRunKeys(dir: string): number[] {
  return readClosedShard(dir, (env) => {
    const runs = env.openDB<Buffer, [number, number]>({
      name: 'scatteredRuns',
      encoding: 'binary',
    });
    const heads = new Set<number>();
    const chunked = new Set<number>();
    for (const key of runs.getKeys({ start: [0, 0] })) (key[1] === 0 ? heads : chunked).add(key[0]);
    return [...chunked].filter((key) => !heads.has(key));
  });
}
