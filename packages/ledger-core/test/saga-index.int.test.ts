// Goal: the saga steps' shortcuts past the LMDB indexes (the saga-id max, the closed sides'
// records built from the reservation) give the answers and index entries the lookups gave.
// Method: real LMDB in mkdtemp dirs, both submit paths, reopen; LMDB reads counted with a spy.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ShardEngine,
  type Command,
  type ReservationLeg,
  type TransferRecord,
} from '../src/index.js';
import { encodeCommandBatch, decodeResultBatch } from '../src/storage/batch-codec.js';
import { sagaRunEntries } from '../src/storage/saga-run.js';
import { writeTransferRecord } from '../src/storage/transfer-record.js';
import { ValueArena } from '../src/storage/value-arena.js';
import { account, spec, tempDirs, transfer } from './fixtures/engine-fixtures.js';

const dirs = tempDirs('saga-index-');
const open: ShardEngine[] = [];

async function openEngine(dir: string): Promise<ShardEngine> {
  const engine = await ShardEngine.open({ dir, snapshotIntervalMs: 0 });
  open.push(engine);
  return engine;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((engine) => engine.close()));
  await dirs.cleanup();
});

const debitLeg = (id: string, amount = 5n): ReservationLeg => ({
  side: 'debit',
  transfer: spec(id, 'a', 'remote', amount),
});
const creditLeg = (id: string, amount = 5n): ReservationLeg => ({
  side: 'credit',
  transfer: spec(id, 'remote', 'b', amount),
});
const reserve = (sagaId: string, ...legs: ReservationLeg[]): Command => ({
  type: 'ReserveFunds',
  sagaId,
  participants: [0, 1],
  legs,
});
const commit = (sagaId: string): Command => ({ type: 'CommitReservation', sagaId });
const release = (sagaId: string): Command => ({
  type: 'ReleaseReservation',
  sagaId,
  reason: 'test',
});

/** Submits through the shard worker's path (submitEncoded), or submit() when `encoded` is false. */
async function statuses(
  engine: ShardEngine,
  commands: Command[],
  encoded = true,
): Promise<string[]> {
  if (!encoded) return (await engine.submit(commands)).map((result) => result.status);
  return decodeResultBatch(await engine.submitEncoded(encodeCommandBatch(commands))).map(
    (result) => result.status,
  );
}

/** The engine's LMDB saga index, to count the reads that the saga-id max saves. */
/** The timestamp of the event that committed saga `sagaId` on this engine. */
async function commitTimeOf(engine: ShardEngine, sagaId: string): Promise<bigint> {
  const events = await engine.readEvents(0, 1_000);
  const found = events.find(
    (item) => item.event.type === 'ReservationCommitted' && item.event.sagaId === sagaId,
  );
  expect(found).toBeDefined();
  return found?.event.timestamp as bigint;
}

function sagaIndexOf(engine: ShardEngine): { get(key: string): unknown } {
  return (engine as unknown as { db: { sagas: { get(key: string): unknown } } }).db.sagas;
}

async function withAccounts(dir: string): Promise<ShardEngine> {
  const engine = await openEngine(dir);
  expect(
    await statuses(engine, [account('a'), account('b'), transfer('seed', 'b', 'a', 1_000n)], false),
  ).toEqual(['ok', 'ok', 'ok']);
  return engine;
}

describe('saga-id max (decideReserve skips the saga index for ids above every stored one)', () => {
  it('answers a resubmitted saga below the max from the index', async () => {
    const engine = await withAccounts(await dirs.make());
    expect(await statuses(engine, [reserve('s-b', debitLeg('t-b')), commit('s-b')])).toEqual([
      'ok',
      'ok',
    ]);
    expect(await statuses(engine, [reserve('s-z', debitLeg('t-z')), commit('s-z')])).toEqual([
      'ok',
      'ok',
    ]);
    // s-b is below the max s-z: looked up, found committed, so the resubmission exists.
    expect(await statuses(engine, [reserve('s-b', debitLeg('t-b')), commit('s-b')])).toEqual([
      'exists',
      'exists',
    ]);
    // A new saga below the max is not in the index: it reserves.
    expect(await statuses(engine, [reserve('s-a', debitLeg('t-a')), commit('s-a')])).toEqual([
      'ok',
      'ok',
    ]);
    expect(await engine.sagaOutcome('s-a')).toBe('committed');
    expect((await engine.info()).reservationsOpen).toBe(0);
  });

  it('respects a release tombstone, in the same call and after the write committed', async () => {
    const engine = await withAccounts(await dirs.make());
    // Recovery's tombstone: a release with no reservation here refuses the late reserve.
    expect(await statuses(engine, [release('s-m'), reserve('s-m', debitLeg('t-m'))])).toEqual([
      'ok',
      'reservation_released',
    ]);
    expect(await statuses(engine, [reserve('s-z', debitLeg('t-z')), commit('s-z')])).toEqual([
      'ok',
      'ok',
    ]);
    expect(await statuses(engine, [reserve('s-m', debitLeg('t-m'))])).toEqual([
      'reservation_released',
    ]);
    expect(await statuses(engine, [release('s-y')])).toEqual(['ok']);
    expect(await statuses(engine, [reserve('s-y', creditLeg('t-y'))])).toEqual([
      'reservation_released',
    ]);
    expect((await engine.info()).reservationsOpen).toBe(0);
  });

  it('restores the max on reopen, so stored sagas are still found and new ones skip the index', async () => {
    const dir = await dirs.make();
    const first = await withAccounts(dir);
    expect(
      await statuses(first, [reserve('s-2', debitLeg('t-2')), commit('s-2'), release('s-5')]),
    ).toEqual(['ok', 'ok', 'ok']);
    await first.close();
    const engine = await openEngine(dir);
    expect(await statuses(engine, [reserve('s-2', debitLeg('t-2'))])).toEqual(['exists']);
    expect(await statuses(engine, [reserve('s-5', debitLeg('t-5'))])).toEqual([
      'reservation_released',
    ]);
    const get = vi.spyOn(sagaIndexOf(engine), 'get');
    expect(
      await statuses(engine, [reserve('s-6', debitLeg('t-6')), reserve('s-7', creditLeg('t-7'))]),
    ).toEqual(['ok', 'ok']);
    expect(await statuses(engine, [commit('s-6'), commit('s-7')])).toEqual(['ok', 'ok']);
    // Ascending new saga ids: no read of the saga index at all.
    expect(get).not.toHaveBeenCalled();
    expect(await statuses(engine, [reserve('s-2', debitLeg('t-2'))])).toEqual(['exists']);
    expect(get).toHaveBeenCalledWith('s-2');
  });

  it('restores the max from the log when the index entries past indexedThrough were lost', async () => {
    const dir = await dirs.make();
    const first = await withAccounts(dir);
    expect(await statuses(first, [reserve('s-1', debitLeg('t-1')), commit('s-1')])).toEqual([
      'ok',
      'ok',
    ]);
    // As after a crash between the log record and its index entries: recovery re-derives them.
    const db = (
      first as unknown as {
        db: {
          sagaRuns: { remove(key: string): Promise<boolean> };
          meta: { put(key: string, value: number): Promise<boolean> };
        };
      }
    ).db;
    expect(await db.sagaRuns.remove('s-1')).toBe(true);
    await db.meta.put('indexedThrough', 0);
    await first.close();
    const engine = await openEngine(dir);
    expect(await engine.sagaOutcome('s-1')).toBe('committed');
    expect(await statuses(engine, [reserve('s-1', debitLeg('t-1'))])).toEqual(['exists']);
  });

  it('falls back to the index once a saga id is not ASCII, before and after reopen', async () => {
    const dir = await dirs.make();
    const first = await withAccounts(dir);
    expect(await statuses(first, [reserve('s-1', debitLeg('t-1')), commit('s-1')])).toEqual([
      'ok',
      'ok',
    ]);
    expect(
      await statuses(first, [reserve('s-é', debitLeg('t-é')), commit('s-é'), release('s-ü')]),
    ).toEqual(['ok', 'ok', 'ok']);
    expect(
      await statuses(first, [reserve('s-é', debitLeg('t-é')), reserve('s-ü', debitLeg('t-ü'))]),
    ).toEqual(['exists', 'reservation_released']);
    await first.close();
    const engine = await openEngine(dir);
    // The index's last key is not ASCII: no max; ids the filter may hold are looked up.
    expect(
      await statuses(engine, [reserve('s-é', debitLeg('t-é')), reserve('s-ü', debitLeg('t-ü'))]),
    ).toEqual(['exists', 'reservation_released']);
    const get = vi.spyOn(sagaIndexOf(engine), 'get');
    expect(await statuses(engine, [reserve('s-9', debitLeg('t-9')), commit('s-9')])).toEqual([
      'ok',
      'ok',
    ]);
    // No max proves 's-9' new, but the filter of known saga ids does: no disk lookup. An id the
    // index holds ('s-1') is looked up on disk and found.
    expect(get).not.toHaveBeenCalledWith('s-9');
    expect(await statuses(engine, [reserve('s-1', debitLeg('t-1'))])).toEqual(['exists']);
    expect(get).toHaveBeenCalledWith('s-1');
  });
});

/** The engine's saga runs (first saga id -> outcomes) and per-saga entries, as stored. */
function storedSagaIndex(engine: ShardEngine): {
  runs: [string, [string, string][]][];
  single: [string, string][];
} {
  const db = (
    engine as unknown as {
      db: {
        sagas: { getRange(): Iterable<{ key: string; value: string }> };
        sagaRuns: { getRange(): Iterable<{ key: string; value: Uint8Array }> };
      };
    }
  ).db;
  return {
    runs: [...db.sagaRuns.getRange()].map(({ key, value }) => [key, sagaRunEntries(value)]),
    single: [...db.sagas.getRange()].map(({ key, value }) => [key, value]),
  };
}

describe('saga runs (the final outcomes of one call above the saga-id max, stored as one entry)', () => {
  it('stores ascending outcomes of a call as one run, and the ones below the max one by one', async () => {
    const dir = await dirs.make();
    const first = await withAccounts(dir);
    expect(
      await statuses(first, [
        reserve('s-1', debitLeg('t-1')),
        reserve('s-2', debitLeg('t-2')),
        reserve('s-4', debitLeg('t-4')),
      ]),
    ).toEqual(['ok', 'ok', 'ok']);
    expect(await statuses(first, [commit('s-2'), release('s-4'), release('s-3')])).toEqual([
      'ok',
      'ok',
      'ok',
    ]);
    // s-1 and s-3 close below the max s-4: their own entries.
    expect(await statuses(first, [commit('s-1'), release('s-5'), release('s-6')])).toEqual([
      'ok',
      'ok',
      'ok',
    ]);
    expect(storedSagaIndex(first)).toEqual({
      runs: [
        [
          's-2',
          [
            ['s-2', 'committed'],
            ['s-4', 'released'],
          ],
        ],
        [
          's-5',
          [
            ['s-5', 'released'],
            ['s-6', 'released'],
          ],
        ],
      ],
      single: [
        ['s-1', 'committed'],
        ['s-3', 'released'],
      ],
    });
    // After a non-ASCII saga id, no more runs: every outcome is its own entry.
    expect(await statuses(first, [release('s-é'), release('s-7')])).toEqual(['ok', 'ok']);
    expect(storedSagaIndex(first).single).toEqual([
      ['s-1', 'committed'],
      ['s-3', 'released'],
      ['s-7', 'released'],
      ['s-é', 'released'],
    ]);
    await first.close();
    const engine = await openEngine(dir);
    const expected: [string, string][] = [
      ['s-1', 'committed'],
      ['s-2', 'committed'],
      ['s-3', 'released'],
      ['s-4', 'released'],
      ['s-5', 'released'],
      ['s-6', 'released'],
      ['s-7', 'released'],
      ['s-é', 'released'],
    ];
    for (const [sagaId, outcome] of expected)
      expect(await engine.sagaOutcome(sagaId)).toBe(outcome);
    expect(await engine.sagaOutcome('s-0')).toBeUndefined();
    expect(await engine.sagaOutcome('s-45')).toBeUndefined();
    expect(
      await statuses(engine, [
        reserve('s-2', debitLeg('t-2')),
        reserve('s-4', debitLeg('t-4')),
        reserve('s-6', debitLeg('t-6')),
      ]),
    ).toEqual(['exists', 'reservation_released', 'reservation_released']);
    expect(await statuses(engine, [commit('s-2'), release('s-4'), commit('s-6')])).toEqual([
      'exists',
      'exists',
      'reservation_released',
    ]);
  });

  it('restores the max from the last run on reopen', async () => {
    const dir = await dirs.make();
    const first = await withAccounts(dir);
    expect(
      await statuses(first, [reserve('s-1', debitLeg('t-1')), commit('s-1'), release('s-8')]),
    ).toEqual(['ok', 'ok', 'ok']);
    expect(storedSagaIndex(first)).toEqual({
      runs: [
        [
          's-1',
          [
            ['s-1', 'committed'],
            ['s-8', 'released'],
          ],
        ],
      ],
      single: [],
    });
    await first.close();
    const engine = await openEngine(dir);
    // s-8 is the greatest saga id, stored in a run only: a late reserve of it is still refused.
    expect(await statuses(engine, [reserve('s-8', debitLeg('t-8'))])).toEqual([
      'reservation_released',
    ]);
    expect(await statuses(engine, [release('s-7'), release('s-9')])).toEqual(['ok', 'ok']);
    expect(storedSagaIndex(engine)).toEqual({
      runs: [
        [
          's-1',
          [
            ['s-1', 'committed'],
            ['s-8', 'released'],
          ],
        ],
        ['s-9', [['s-9', 'released']]],
      ],
      single: [['s-7', 'released']],
    });
  });
});

describe('open sagas (the reservation in the state, no saga index entry)', () => {
  it('answers an open saga from its reservation, before and after reopen, and indexes the outcome once closed', async () => {
    const dir = await dirs.make();
    const first = await withAccounts(dir);
    expect(
      await statuses(first, [reserve('s-1', debitLeg('t-1')), reserve('s-2', creditLeg('t-2'))]),
    ).toEqual(['ok', 'ok']);
    expect(sagaIndexOf(first).get('s-1')).toBeUndefined();
    expect(await first.sagaOutcome('s-1')).toBe('reserved');
    expect(await statuses(first, [reserve('s-1', debitLeg('t-1'))])).toEqual(['exists']);
    await first.close();
    const engine = await openEngine(dir);
    expect(await engine.sagaOutcome('s-2')).toBe('reserved');
    expect(
      await statuses(engine, [reserve('s-1', debitLeg('t-1')), reserve('s-2', creditLeg('t-2'))]),
    ).toEqual(['exists', 'exists']);
    expect(await statuses(engine, [commit('s-1'), release('s-2')])).toEqual(['ok', 'ok']);
    expect(storedSagaIndex(engine)).toEqual({
      runs: [
        [
          's-1',
          [
            ['s-1', 'committed'],
            ['s-2', 'released'],
          ],
        ],
      ],
      single: [],
    });
    expect(
      await statuses(engine, [reserve('s-1', debitLeg('t-1')), reserve('s-2', creditLeg('t-2'))]),
    ).toEqual(['exists', 'reservation_released']);
  });

  it('reads a saga index that holds reserved entries (data written before open sagas left it)', async () => {
    const dir = await dirs.make();
    const first = await withAccounts(dir);
    expect(
      await statuses(first, [reserve('s-1', debitLeg('t-1')), reserve('s-2', debitLeg('t-2'))]),
    ).toEqual(['ok', 'ok']);
    const db = (
      first as unknown as { db: { sagas: { put(key: string, value: string): Promise<boolean> } } }
    ).db;
    await db.sagas.put('s-1', 'reserved');
    await db.sagas.put('s-2', 'reserved');
    await first.close();
    const engine = await openEngine(dir);
    expect(await engine.sagaOutcome('s-1')).toBe('reserved');
    expect(await statuses(engine, [commit('s-1'), release('s-2')])).toEqual(['ok', 'ok']);
    expect(await engine.sagaOutcome('s-1')).toBe('committed');
    expect(await engine.sagaOutcome('s-2')).toBe('released');
    expect(
      await statuses(engine, [reserve('s-1', debitLeg('t-1')), reserve('s-2', debitLeg('t-2'))]),
    ).toEqual(['exists', 'reservation_released']);
    expect((await engine.verify()).ok).toBe(true);
  });
});

describe('reserved sides (their records are the open reservation, not written to the index)', () => {
  const expectReserved = (record: TransferRecord | undefined, id: string, sagaId: string): void => {
    expect(record).toMatchObject({
      id,
      kind: 'transfer',
      state: 'reserved',
      sagaId,
      pending: false,
      pendingId: null,
      postedAmount: null,
    });
  };

  it('answers lookups and refuses the id while in flight, in the same call, later, and after reopen', async () => {
    const dir = await dirs.make();
    const first = await withAccounts(dir);
    expect(
      await statuses(first, [reserve('s-1', debitLeg('t-1')), transfer('t-1', 'a', 'b', 1n)]),
    ).toEqual(['ok', 'transfer_in_flight']);
    expect(await statuses(first, [reserve('s-9', creditLeg('t-9'))])).toEqual(['ok']);
    const before = await first.lookupTransfers(['t-1', 't-9']);
    expectReserved(before[0], 't-1', 's-1');
    expectReserved(before[1], 't-9', 's-9');
    expect(await statuses(first, [transfer('t-9', 'a', 'b', 1n)])).toEqual(['transfer_in_flight']);
    await first.close();
    // t-9 is the greatest transfer id and is on no disk index: reopen must still know it.
    const engine = await openEngine(dir);
    expect(await engine.lookupTransfers(['t-1', 't-9'])).toEqual(before);
    expect(
      await statuses(engine, [transfer('t-9', 'a', 'b', 1n), transfer('t-1', 'a', 'b', 1n)]),
    ).toEqual(['transfer_in_flight', 'transfer_in_flight']);
    expect(await statuses(engine, [transfer('t-9', 'a', 'b', 1n)], false)).toEqual([
      'transfer_in_flight',
    ]);
    expect(await statuses(engine, [reserve('s-10', debitLeg('t-9'))])).toEqual([
      'transfer_in_flight',
    ]);
    expect(await statuses(engine, [commit('s-9'), release('s-1')])).toEqual(['ok', 'ok']);
    expect((await engine.lookupTransfers(['t-9']))[0]).toMatchObject({
      state: 'posted',
      sagaId: 's-9',
    });
    expect(await statuses(engine, [transfer('t-9', 'a', 'b', 1n)])).toEqual([
      'exists_with_different_fields',
    ]);
  });

  it('restores them from a snapshot', async () => {
    const dir = await dirs.make();
    const first = await withAccounts(dir);
    expect(await statuses(first, [reserve('s-5', debitLeg('t-5'))])).toEqual(['ok']);
    const before = await first.lookupTransfers(['t-5']);
    await first.snapshot();
    await first.close();
    const engine = await openEngine(dir);
    expect((await engine.info()).recoveredFromSnapshot).not.toBeNull();
    expect(await engine.lookupTransfers(['t-5'])).toEqual(before);
    expect(await statuses(engine, [transfer('t-5', 'a', 'b', 1n)])).toEqual(['transfer_in_flight']);
    expect(await statuses(engine, [commit('s-5')])).toEqual(['ok']);
    expect((await engine.lookupTransfers(['t-5']))[0]).toMatchObject({
      state: 'posted',
      sagaId: 's-5',
    });
  });

  it('lets a new saga take a released id, and shows the new reservation over the released record', async () => {
    const engine = await withAccounts(await dirs.make());
    expect(await statuses(engine, [reserve('s-1', debitLeg('t-1', 3n)), release('s-1')])).toEqual([
      'ok',
      'ok',
    ]);
    expect(await statuses(engine, [reserve('s-2', debitLeg('t-1', 4n))])).toEqual(['ok']);
    const [reserved] = await engine.lookupTransfers(['t-1']);
    expectReserved(reserved, 't-1', 's-2');
    expect(reserved?.amount).toBe(4n);
    expect(await statuses(engine, [commit('s-2')])).toEqual(['ok']);
    expect((await engine.lookupTransfers(['t-1']))[0]).toMatchObject({
      state: 'posted',
      sagaId: 's-2',
      amount: 4n,
    });
  });

  it('reads an index that holds reserved records (data written before they left it)', async () => {
    const dir = await dirs.make();
    const first = await withAccounts(dir);
    expect(
      await statuses(first, [reserve('s-1', debitLeg('t-1')), reserve('s-2', creditLeg('t-2'))]),
    ).toEqual(['ok', 'ok']);
    const before = await first.lookupTransfers(['t-1', 't-2']);
    const db = (
      first as unknown as {
        db: {
          transfers: {
            put(key: string, value: Buffer): Promise<boolean>;
            getBinary(key: string): Buffer | undefined;
          };
        };
      }
    ).db;
    for (const record of before) {
      const arena = new ValueArena(4096);
      writeTransferRecord(arena, record as TransferRecord);
      await db.transfers.put((record as TransferRecord).id, arena.takeCopy());
    }
    await first.close();
    const engine = await openEngine(dir);
    expect(await engine.lookupTransfers(['t-1', 't-2'])).toEqual(before);
    expect(await statuses(engine, [commit('s-1'), release('s-2')])).toEqual(['ok', 'ok']);
    expect((await engine.lookupTransfers(['t-1']))[0]).toEqual({
      ...before[0],
      state: 'posted',
      timestamp: await commitTimeOf(engine, 's-1'),
    });
    expect(await engine.lookupTransfers(['t-2'])).toEqual([undefined]);
    expect((await engine.verify()).ok).toBe(true);
  });
});

describe('closed saga sides (their records come from the reservation, not from a read)', () => {
  /** What the index held before: the reserve's record with the new state (dated by the commit
   * when posted: `committedAt`). */
  function closedRecord(
    reserved: TransferRecord | undefined,
    state: 'posted' | 'released',
    committedAt?: bigint,
  ): TransferRecord {
    expect(reserved?.state).toBe('reserved');
    const record = { ...(reserved as TransferRecord), state };
    return committedAt === undefined ? record : { ...record, timestamp: committedAt };
  }

  for (const encoded of [true, false]) {
    it(`writes the record the reserve wrote, with the new state (${encoded ? 'submitEncoded' : 'submit'})`, async () => {
      const dir = await dirs.make();
      const engine = await withAccounts(dir);
      const metadata = { note: 'x', n: '3' };
      const legs = [
        debitLeg('t-1', 7n),
        { side: 'debit', transfer: spec('t-2', 'a', 'remote', 9n, { metadata }) } as ReservationLeg,
      ];
      // Both sides of one transfer on this shard: two legs, one record.
      const both = spec('t-3', 'a', 'b', 4n);
      expect(
        await statuses(
          engine,
          [reserve('s-1', ...legs), reserve('s-2', creditLeg('t-4'))],
          encoded,
        ),
      ).toEqual(['ok', 'ok']);
      expect(
        await statuses(
          engine,
          [reserve('s-3', { side: 'debit', transfer: both }, { side: 'credit', transfer: both })],
          encoded,
        ),
      ).toEqual(['ok']);
      const reserved = await engine.lookupTransfers(['t-1', 't-2', 't-3', 't-4']);
      // Committed in later calls: the reserve's records are on disk by then.
      expect(await statuses(engine, [commit('s-1'), release('s-2')], encoded)).toEqual([
        'ok',
        'ok',
      ]);
      expect(await statuses(engine, [commit('s-3')], encoded)).toEqual(['ok']);
      const committed1 = await commitTimeOf(engine, 's-1');
      const expected = [
        closedRecord(reserved[0], 'posted', committed1),
        closedRecord(reserved[1], 'posted', committed1),
        closedRecord(reserved[2], 'posted', await commitTimeOf(engine, 's-3')),
      ];
      expect(await engine.lookupTransfers(['t-1', 't-2', 't-3'])).toEqual(expected);
      expect(expected[1]?.metadata).toEqual(metadata);
      // A released side frees its id: lookups hide it, and a new transfer may take it.
      expect(await engine.lookupTransfers(['t-4'])).toEqual([undefined]);
      const db = (
        engine as unknown as {
          context: { transfers: { get(id: string): TransferRecord | undefined } };
        }
      ).context;
      expect(db.transfers.get('t-4')).toEqual(closedRecord(reserved[3], 'released'));
      await engine.close();
      const reopened = await openEngine(dir);
      expect(await reopened.lookupTransfers(['t-1', 't-2', 't-3'])).toEqual(expected);
      expect((await reopened.verify()).ok).toBe(true);
    });
  }

  it('writes the same records when reserve and commit share one call', async () => {
    const engine = await withAccounts(await dirs.make());
    expect(await statuses(engine, [reserve('s-1', debitLeg('t-1')), commit('s-1')])).toEqual([
      'ok',
      'ok',
    ]);
    const [record] = await engine.lookupTransfers(['t-1']);
    expect(record).toMatchObject({
      id: 't-1',
      state: 'posted',
      sagaId: 's-1',
      debitAccountId: 'a',
      amount: 5n,
    });
    // The record is dated by the commit, when the transfer posted, not by the reserve.
    const events = await engine.readEvents(0, 100);
    const reserved = events.find((item) => item.event.type === 'FundsReserved');
    expect(record?.timestamp).toBe(await commitTimeOf(engine, 's-1'));
    expect(record?.timestamp).toBeGreaterThan(reserved?.event.timestamp as bigint);
  });
});
