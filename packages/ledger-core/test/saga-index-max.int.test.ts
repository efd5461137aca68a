// Goal: the saga-id max lets a reserve skip the LMDB saga index for ids above every stored one,
// and saga runs store one call's outcomes as one entry, with the answers the index gave.
// Method: real LMDB in mkdtemp dirs, both submit paths, reopen; LMDB reads counted with a spy.
import { describe, expect, it, vi } from 'vitest';
import { commit, release, reserve } from './fixtures/engine-fixtures.js';
import {
  creditLeg,
  debitLeg,
  sagaIndexOf,
  statuses,
  storedSagaIndex,
  useSagaEngines,
} from './fixtures/saga-index-fixtures.js';

const { dirs, openEngine, withAccounts } = useSagaEngines('saga-index-max-');

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
