// Goal: the record of a transfer that a saga commits under a new id goes into its commit's
// scattered run, not an entry of the transfers database, and is found as before: at once, after
// the commit, by verify(), and after a reopen. Any other saga record (a release, an id seen
// before, a reservation made before the reopen) keeps its entry.
// Method: real LMDB in mkdtemp dirs; the transfers database read through the engine's handle.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ShardEngine } from '../src/index.js';
import { commit, release, reserve } from './fixtures/engine-fixtures.js';
import { creditLeg, debitLeg, statuses, useSagaEngines } from './fixtures/saga-index-fixtures.js';

const { dirs, openEngine, withAccounts } = useSagaEngines('saga-record-runs-');

/** The ids with an entry of their own in the shard's transfers database. */
function transferEntries(engine: ShardEngine): Set<string> {
  const db = (engine as unknown as { db: { transfers: { getKeys(): Iterable<string> } } }).db;
  return new Set(db.transfers.getKeys());
}

async function recordsOf(
  engine: ShardEngine,
  ids: readonly string[],
): Promise<({ state: string; sagaId: string | null } | undefined)[]> {
  return (await engine.lookupTransfers(ids)).map((record) =>
    record === undefined ? undefined : { state: record.state, sagaId: record.sagaId },
  );
}

describe('records of committed sagas with new ids', () => {
  it('are kept in runs, found at once, after the commit, by verify and after a reopen', async () => {
    const dir = await dirs.make();
    const engine = await withAccounts(dir);
    const ids = Array.from({ length: 300 }, () => randomUUID());
    const commands = ids.flatMap((id, index) => [
      reserve(
        `s-${String(index).padStart(4, '0')}`,
        index % 2 === 0 ? debitLeg(id) : creditLeg(id),
      ),
      commit(`s-${String(index).padStart(4, '0')}`),
    ]);
    // Applied in one call: the second half looks its ids up before the commit is durable.
    const first = statuses(engine, commands.slice(0, 300));
    const again = statuses(
      engine,
      ids
        .slice(0, 150)
        .map((id, index) =>
          reserve(`s-again-${index}`, index % 2 === 0 ? debitLeg(id) : creditLeg(id)),
        ),
    );
    expect(new Set(await first)).toEqual(new Set(['ok']));
    // Every id is taken by a committed saga: a new saga with it is refused.
    expect(new Set(await again)).toEqual(new Set(['exists']));
    expect(new Set(await statuses(engine, commands.slice(300)))).toEqual(new Set(['ok']));
    const entries = transferEntries(engine);
    expect(ids.filter((id) => entries.has(id))).toEqual([]);
    const expected = ids.map((_, index) => ({
      state: 'posted',
      sagaId: `s-${String(index).padStart(4, '0')}`,
    }));
    expect(await recordsOf(engine, ids)).toEqual(expected);
    expect((await engine.verify()).violations).toEqual([]);
    await engine.close();
    const reopened = await openEngine(dir);
    expect(await recordsOf(reopened, ids)).toEqual(expected);
    expect((await reopened.verify()).violations).toEqual([]);
  });

  it('keeps an entry for a release, a reused id, and a reservation made before a reopen', async () => {
    const dir = await dirs.make();
    const engine = await withAccounts(dir);
    const released = randomUUID();
    const open = randomUUID();
    expect(
      await statuses(engine, [
        reserve('s-1', debitLeg(released)),
        release('s-1'),
        reserve('s-2', debitLeg(open)),
      ]),
    ).toEqual(['ok', 'ok', 'ok']);
    // The id of a released saga is taken again by a new saga, which commits.
    expect(await statuses(engine, [reserve('s-3', debitLeg(released)), commit('s-3')])).toEqual([
      'ok',
      'ok',
    ]);
    await engine.close();
    const reopened = await openEngine(dir);
    expect(await statuses(reopened, [commit('s-2')])).toEqual(['ok']);
    const entries = transferEntries(reopened);
    expect(entries.has(released)).toBe(true);
    expect(entries.has(open)).toBe(true);
    expect(await recordsOf(reopened, [released, open])).toEqual([
      { state: 'posted', sagaId: 's-3' },
      { state: 'posted', sagaId: 's-2' },
    ]);
    expect((await reopened.verify()).violations).toEqual([]);
  });
});
