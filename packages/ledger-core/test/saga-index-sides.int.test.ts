// Goal: an open saga is answered from its reservation, and its sides' records (reserved, then
// posted or released) come from the reservation, with the answers and index entries the lookups
// gave. Method: real LMDB in mkdtemp dirs, both submit paths, reopen and snapshot.
import { describe, expect, it } from 'vitest';
import { type ReservationLeg, type ShardEngine, type TransferRecord } from '../src/index.js';
import { writeTransferRecord } from '../src/storage/transfer-record.js';
import { ValueArena } from '../src/storage/value-arena.js';
import { commit, release, reserve, spec, transfer } from './fixtures/engine-fixtures.js';
import {
  creditLeg,
  debitLeg,
  sagaIndexOf,
  statuses,
  storedSagaIndex,
  useSagaEngines,
} from './fixtures/saga-index-fixtures.js';

const { dirs, openEngine, withAccounts } = useSagaEngines('saga-index-sides-');

/** The timestamp of the event that committed saga `sagaId` on this engine. */
async function commitTimeOf(engine: ShardEngine, sagaId: string): Promise<bigint> {
  const events = await engine.readEvents(0, 1_000);
  const found = events.find(
    (item) => item.event.type === 'ReservationCommitted' && item.event.sagaId === sagaId,
  );
  expect(found).toBeDefined();
  return found?.event.timestamp as bigint;
}

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
