// Goal: a consumer that stores the feed's cursor with its data in one transaction gets every
// committed event exactly once, in order per shard, across SIGKILLs of the process that writes
// and consumes. Method: a child process (fixtures/change-feed-consumer.mjs, compiled package)
// writes seeded transfers and consumes the feed into SQLite until it is killed at seeded random
// moments; afterwards the stored events are compared with the shards' logs.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '@shardledger/ledger-core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { Ledger } from '../src/index.js';
import { runAndKill } from './ledger-fixtures.js';

const KILLS = 4;
const SEED = 83;
const CHILD = fileURLToPath(new URL('./fixtures/change-feed-consumer.mjs', import.meta.url));
const require = createRequire(import.meta.url);
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(cleanups.map((cleanup) => cleanup()));
});

interface StoredChange {
  readonly shard: number;
  readonly sequence: number;
  readonly type: string;
  readonly balances: string;
}

interface Database {
  prepare(source: string): { all(): unknown[]; get(): unknown };
  close(): void;
}

function storedChanges(path: string): { changes: StoredChange[]; cursor: string | null } {
  const open = require('better-sqlite3') as new (path: string) => Database;
  const db = new open(path);
  try {
    const changes = db.prepare('SELECT * FROM changes ORDER BY rowid').all() as StoredChange[];
    const row = db.prepare('SELECT value FROM cursor WHERE id = 1').get() as
      { value: string } | undefined;
    return { changes, cursor: row?.value ?? null };
  } finally {
    db.close();
  }
}

describe('change feed under SIGKILL', () => {
  it('a consumer storing its cursor gets each event once, in order, across kills', async () => {
    const { dir, cleanup } = await tempDir('change-feed-crash');
    cleanups.push(cleanup);
    const path = join(dir, 'consumer.sqlite');
    const setup = await Ledger.open({ dir, shards: 2, durability: 'relaxed' });
    const accounts = Array.from({ length: 10 }, (_, index) => ({
      id: `a${index}`,
      currency: 'USD',
    }));
    await setup.createAccounts(accounts);
    await setup.close();
    let state = SEED;
    const storedAfterKill: number[] = [];
    for (let run = 0; run < KILLS; run += 1) {
      state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
      const outcome = await runAndKill(
        CHILD,
        [dir, path, String(run), String(SEED)],
        150 + (state % 500),
        20_000,
      );
      expect(outcome.stderr).toBe('');
      expect(outcome.ready).toBe(true);
      storedAfterKill.push(storedChanges(path).changes.length);
    }
    console.log(`events stored after each kill: ${storedAfterKill.join(' ')}`);
    expect(new Set(storedAfterKill).size).toBeGreaterThan(1);
    const { changes, cursor } = storedChanges(path);
    const ledger = await Ledger.open({ dir });
    try {
      const through = (cursor ?? '').split(',').map((part) => Number(part.split(':')[1]));
      expect(through).toHaveLength(2);
      for (let shard = 0; shard < 2; shard += 1) {
        const mine = changes.filter((change) => change.shard === shard);
        const last = through[shard] as number;
        // Each event once, in order, none missing: exactly 1 .. the stored cursor.
        expect(mine.map((change) => change.sequence)).toEqual(
          Array.from({ length: last }, (_, index) => index + 1),
        );
        const log = await ledger.readEvents(shard, 0, last);
        expect(mine.map((change) => change.type)).toEqual(log.map((item) => item.event.type));
        // Balances as the shard's history has them, for every 25th event.
        for (const change of mine.filter((_, index) => index % 25 === 0)) {
          for (const [accountId, ...counters] of JSON.parse(change.balances) as string[][]) {
            const asOf = await ledger.balanceAsOf(accountId as string, {
              sequence: change.sequence,
            });
            expect(
              [
                asOf?.debitsPosted,
                asOf?.creditsPosted,
                asOf?.debitsPending,
                asOf?.creditsPending,
              ].map(String),
            ).toEqual(counters);
          }
        }
      }
      const logged = (await ledger.info()).shardInfo.map((info) => info.lastSequence);
      expect(through[0]).toBeLessThanOrEqual(logged[0] as number);
      expect(changes.length).toBeGreaterThan(KILLS * 20);
    } finally {
      await ledger.close();
    }
  }, 60_000);
});
