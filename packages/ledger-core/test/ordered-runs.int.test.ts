// Goal: the time-ordered transfers of one commit are stored as index entries of at most
// orderedChunkEntries transfers each, so that a lookup reads one small entry instead of the
// commit's whole run (thousands of transfers), and every transfer is found, open and after a
// reopen, at the edges of the entries too. Method: a real engine on a temp dir, one call of
// 1,000 ordered plain transfers through submitEncoded (one commit); the runs database is then
// read with lmdb itself.
import { open } from 'lmdb';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { ShardEngine } from '../src/index.js';
import { decodeResultBatch, encodeCommandBatch } from '../src/internals.js';
import { orderedChunkEntries } from '../src/storage/plain-lane.js';
import { plainRunCount } from '../src/storage/plain-run.js';
import { account, transfer, tempDirs } from './fixtures/engine-fixtures.js';

const dirs = tempDirs('ordered-runs-');
afterAll(() => dirs.cleanup());

const COUNT = 1_000;
const ids = Array.from({ length: COUNT }, (_, index) => `t-${String(index).padStart(6, '0')}`);

async function expectAllFound(engine: ShardEngine): Promise<void> {
  const found = await engine.lookupTransfers(ids);
  expect(found.map((record) => record?.id)).toEqual(ids);
  expect(found.map((record) => record?.amount)).toEqual(
    ids.map((_, index) => BigInt(1 + (index % 5))),
  );
  expect(await engine.lookupTransfers(['t-', 't-0009999', 't-000999~'])).toEqual([
    undefined,
    undefined,
    undefined,
  ]);
}

it('stores a commit of ordered transfers as entries of at most orderedChunkEntries, each found', async () => {
  const dir = await dirs.make();
  const engine = await ShardEngine.open({ dir, durability: 'strict' });
  await engine.submit([account('a'), account('b')]);
  const commands = ids.map((id, index) => transfer(id, 'a', 'b', BigInt(1 + (index % 5))));
  const results = decodeResultBatch(await engine.submitEncoded(encodeCommandBatch(commands)));
  expect(new Set(results.map((result) => result.status))).toEqual(new Set(['ok']));
  await expectAllFound(engine);
  await engine.close();

  const env = open({ path: join(dir, 'events.mdb'), maxDbs: 12, readOnly: true });
  const runs = env.openDB<Buffer, string>({ name: 'runs', encoding: 'binary' });
  const entries = [...runs.getRange()].map(({ key, value }) => ({
    key,
    count: plainRunCount(value),
  }));
  await env.close();
  expect(entries.map((entry) => entry.key)).toEqual(
    ids.filter((_, index) => index % orderedChunkEntries === 0),
  );
  expect(entries.reduce((sum, entry) => sum + entry.count, 0)).toBe(COUNT);
  expect(Math.max(...entries.map((entry) => entry.count))).toBe(orderedChunkEntries);

  const reopened = await ShardEngine.open({ dir, durability: 'strict' });
  await expectAllFound(reopened);
  await reopened.close();
});
