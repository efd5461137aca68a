// Goal: SIGKILL of the projector at any moment neither skips nor doubles an event. Method: a child
// process (fixtures/read-model-projector.mjs, compiled package) owns the ledger, writes transfers and
// projects them in small batches; it is killed at seeded random moments, many times. Afterwards the
// file is caught up and compared, row for row, with a rebuild into a fresh file, and with the ledger.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '@shardledger/ledger-core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { Ledger } from '../src/index.js';
import { runAndKill } from './ledger-fixtures.js';
import { ReadModel, dumpProjection } from '../src/read-model/index.js';
import { openReadModelDb } from '../src/read-model/read-model-db.js';

const KILLS = 16;
const SEED = 61;
const CHILD = fileURLToPath(new URL('./fixtures/read-model-projector.mjs', import.meta.url));
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(cleanups.map((cleanup) => cleanup()));
});

describe('read model under SIGKILL', () => {
  it('after many kills mid-batch, the file equals a fresh rebuild and the ledger', async () => {
    const { dir, cleanup } = await tempDir('read-model-crash');
    cleanups.push(cleanup);
    const path = join(dir, 'rm.sqlite');
    const setup = await Ledger.open({ dir, shards: 3, durability: 'relaxed' });
    const accounts = Array.from({ length: 12 }, (_, index) => ({
      id: `a${index}`,
      currency: 'USD',
    }));
    await setup.createAccounts(accounts);
    await setup.close();
    let state = SEED;
    const projectedAfterKill: number[] = [];
    // Kills must land while the projector makes progress, not only before it starts. On a loaded
    // machine a child takes seconds to start projecting, so a run that projected nothing adds
    // time before the next kill (doubling, up to 3.2 s), and runs go on (up to twice KILLS) until
    // more than KILLS / 2 of them advanced the file.
    let extraMs = 0;
    let advances = 0;
    for (let run = 0; run < KILLS || (advances <= KILLS / 2 && run < 2 * KILLS); run += 1) {
      state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
      const outcome = await runAndKill(
        CHILD,
        [dir, path, String(run), String(SEED)],
        5 + (state % 400) + extraMs,
        30_000,
      );
      expect(outcome.stderr).toBe('');
      expect(outcome.ready).toBe(true);
      // The killed projector's file as the next run finds it (SQLite recovers the WAL on open).
      const db = openReadModelDb({ path, readonly: false });
      const projected = (
        db.prepare('SELECT coalesce(sum(last_sequence), 0) AS n FROM watermarks').get() as {
          n: number;
        }
      ).n;
      db.close();
      const advanced = projected > (projectedAfterKill[projectedAfterKill.length - 1] ?? 0);
      if (advanced) advances += 1;
      extraMs = advanced ? 0 : Math.min(Math.max(100, 2 * extraMs), 3_200);
      projectedAfterKill.push(projected);
    }
    console.log(`projected events after each kill: ${projectedAfterKill.join(' ')}`);
    expect(projectedAfterKill.length).toBeGreaterThanOrEqual(KILLS);
    expect(advances).toBeGreaterThan(KILLS / 2);
    const model = await ReadModel.open({ dir, path });
    try {
      await model.catchUp({ timeoutMs: 30_000 });
      const info = await model.ledger.info();
      expect(info.shardInfo.reduce((sum, shard) => sum + shard.lastSequence, 0)).toBeGreaterThan(
        KILLS * 20,
      );
      const fresh = await ReadModel.open({
        ledger: model.ledger,
        path: join(dir, 'fresh.sqlite'),
        follow: false,
      });
      try {
        await fresh.catchUp({ timeoutMs: 30_000 });
        expect(dumpProjection(model.db)).toEqual(dumpProjection(fresh.db));
      } finally {
        await fresh.close();
      }
      const live = await model.ledger.lookupAccounts(accounts.map((account) => account.id));
      const projected = model.lookupAccounts(accounts.map((account) => account.id));
      expect(projected.map((account) => [account?.debitsPosted, account?.creditsPosted])).toEqual(
        live.map((account) => [account?.debitsPosted, account?.creditsPosted]),
      );
    } finally {
      await model.close();
    }
    // 16 to 32 child processes, each starting a ledger (3 shard workers) and the projector worker:
    // on a loaded 2-core machine a start alone takes 4 to 6 s, past the suite's default 60 s.
  }, 300_000);
});
