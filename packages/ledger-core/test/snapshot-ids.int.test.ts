// Goal: an open from a snapshot that keeps the id filters knows every stored transfer and saga id,
// those logged before the snapshot and those logged after it, so a retried command is never
// applied twice; it answers every retry as an open that reads the whole index does.
// Method: real LMDB dirs; a copy of the dir without its snapshots is the reference; every kind of
// id (ordered and random plain transfers, holds posted and voided, sagas committed, released and
// tombstoned) before and after the snapshot, then each command retried on both. A filter damaged
// inside a snapshot whose checksum still holds is named by verify().
import { createHash, randomUUID } from 'node:crypto';
import { cpSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Command, ShardEngine } from '../src/index.js';
import {
  commit,
  post,
  release,
  reserve,
  transfer,
  voidPending,
} from './fixtures/engine-fixtures.js';
import { creditLeg, debitLeg, statuses, useSagaEngines } from './fixtures/saga-index-fixtures.js';
import { filterLayerBlocks } from '../src/storage/id-filter.js';
import { snapshotPackr } from '../src/storage/snapshot-cut.js';
import { isSnapshotIdsHead } from '../src/storage/snapshot-ids.js';

const { dirs, openEngine, withAccounts } = useSagaEngines('snapshot-ids-');

/** One of each kind of command that stores an id, tagged so two phases never share one. */
function phase(tag: string): Command[] {
  const commands: Command[] = [];
  for (let index = 0; index < 5; index += 1)
    commands.push(transfer(`${tag}-o${index}`, 'b', 'a', 1n));
  for (let index = 0; index < 5; index += 1)
    commands.push(transfer(`${randomUUID()}-${tag}`, 'b', 'a', 2n));
  commands.push(
    transfer(`${tag}-h1`, 'b', 'a', 3n, { pending: true }),
    post(`${tag}-p1`, `${tag}-h1`),
    transfer(`${tag}-h2`, 'b', 'a', 4n, { pending: true }),
    voidPending(`${tag}-v2`, `${tag}-h2`),
    reserve(`${tag}-s1`, debitLeg(`${tag}-t1`)),
    commit(`${tag}-s1`),
    reserve(`${tag}-s2`, creditLeg(`${tag}-t2`)),
    release(`${tag}-s2`),
    release(`${tag}-s3`),
  );
  return commands;
}

/** Kinds whose retry must never apply again. */
const creating = new Set([
  'CreateTransfer',
  'PostPendingTransfer',
  'VoidPendingTransfer',
  'ReserveFunds',
]);

async function balances(engine: ShardEngine): Promise<string> {
  const views = await engine.lookupAccounts(['a', 'b']);
  return JSON.stringify(views, (_key, value: unknown) =>
    typeof value === 'bigint' ? value.toString() : value,
  );
}

describe('id filters kept in snapshots', () => {
  it('answers every retry after an open from the snapshot as an open that reads the whole index', async () => {
    const dir = await dirs.make();
    const engine = await withAccounts(dir);
    const before = phase('a');
    expect(await statuses(engine, before)).not.toContain('exists');
    const taken = await engine.snapshot();
    const after = phase('b');
    expect(await statuses(engine, after)).not.toContain('exists');
    const lastSequence = engine.info().lastSequence;
    expect(taken.sequence).toBeLessThan(lastSequence);
    await engine.close();

    // The reference: the same dir without snapshots, so its open reads every stored id.
    const reference = await dirs.make();
    rmSync(reference, { recursive: true });
    cpSync(dir, reference, { recursive: true });
    for (const name of readdirSync(join(reference, 'snapshots')))
      rmSync(join(reference, 'snapshots', name), { recursive: true });

    const resumed = await openEngine(dir);
    const walked = await openEngine(reference);
    expect(resumed.info().recoveredFromSnapshot).toBe(taken.sequence);
    expect(resumed.info().idFiltersFromSnapshot).toBe(true);
    expect(walked.info().recoveredFromSnapshot).toBeNull();
    expect(walked.info().idFiltersFromSnapshot).toBe(false);

    for (const retried of [before, after]) {
      // Through both submit paths: the worker's (the plain lane) and submit().
      for (const encoded of [true, false]) {
        const answers = await statuses(resumed, retried, encoded);
        expect(answers).toEqual(await statuses(walked, retried, encoded));
        retried.forEach((command, index) => {
          if (creating.has(command.type))
            expect(answers[index], `${command.type} retried`).not.toBe('ok');
        });
      }
    }
    expect(resumed.info().lastSequence).toBe(walked.info().lastSequence);
    expect(await balances(resumed)).toBe(await balances(walked));
    expect((await resumed.verify()).ok).toBe(true);
  });

  it('keeps the filters across a second snapshot and reopen, and still finds the earliest ids', async () => {
    const dir = await dirs.make();
    let engine = await withAccounts(dir);
    const first = phase('a');
    await statuses(engine, first);
    await engine.snapshot();
    await engine.close();
    engine = await openEngine(dir);
    expect(engine.info().idFiltersFromSnapshot).toBe(true);
    const second = phase('b');
    await statuses(engine, second);
    await engine.snapshot();
    await engine.close();
    engine = await openEngine(dir);
    expect(engine.info().idFiltersFromSnapshot).toBe(true);
    const sequence = engine.info().lastSequence;
    const answers = await statuses(engine, [...first, ...second]);
    // Each retry is found: 'exists', but the released sagas' reserves, refused as released.
    expect(answers.filter((answer) => answer !== 'exists')).toEqual([
      'reservation_released',
      'reservation_released',
    ]);
    expect(engine.info().lastSequence).toBe(sequence);
  });

  it('verify() names the stored ids that a damaged filter in a snapshot would take as new', async () => {
    const dir = await dirs.make();
    const engine = await withAccounts(dir);
    await statuses(engine, phase('a'));
    const taken = await engine.snapshot();
    await engine.close();
    // The snapshot with its transfer-id filter emptied, its own checksum made right again: a
    // damage that the file's checks cannot see.
    const bytes = readFileSync(taken.file);
    const values = snapshotPackr.unpackMultiple(bytes.subarray(88)) as Record<string, unknown>[];
    const head = values.findIndex(
      (value) => isSnapshotIdsHead(value) && value['idFilter'] === 'transfers',
    );
    for (let layer = head + 1; layer <= head + (values[head]?.['layers'] as number); layer += 1) {
      const capacity = values[layer]?.['capacity'] as number;
      const count = values[layer]?.['count'] as number;
      values[layer] = { capacity, count, words: new Uint8Array(filterLayerBlocks(capacity) * 32) };
    }
    const body = Buffer.concat(values.map((value) => snapshotPackr.pack(value)));
    const header = Buffer.from(bytes.subarray(0, 88));
    header.writeDoubleLE(body.length, 16);
    createHash('sha256').update(body).digest().copy(header, 24);
    writeFileSync(taken.file, Buffer.concat([header, body]));

    const reopened = await openEngine(dir);
    expect(reopened.info().idFiltersFromSnapshot).toBe(true);
    const report = await reopened.verify();
    expect(report.ok).toBe(false);
    const unknown = report.violations.filter((violation) => violation.rule === 'transfer_known');
    expect(unknown.length).toBeGreaterThan(0);
    expect(unknown[0]?.detail).toMatch(
      /^transfer ".+" \(sequence \d+\) is in the log but the shard's filter of known ids takes it as new$/,
    );
  });
});
