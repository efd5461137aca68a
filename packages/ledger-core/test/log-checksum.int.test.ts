// Goal: a log record changed on disk is refused with STORAGE_CORRUPT naming the shard dir and the
// record's sequence, by recovery, by the readers of the log and by verify(); records written
// before checksums still read. Method: a real ShardEngine dir whose log records are rewritten
// through LMDB between two opens (one changed id character, or the checksum stripped).
import { afterEach, describe, expect, it } from 'vitest';
import { isLedgerError, ShardEngine, type Command, type LedgerError } from '../src/index.js';
import { shardFormatVersion } from '../src/storage/engine-recovery.js';
import { openShardDatabases, type ShardDatabases } from '../src/storage/lmdb-env.js';
import { Packr } from 'msgpackr';
import { hasChecksum } from '../src/storage/record-checksum.js';
import { account, tempDirs, TestClock, transfer } from './fixtures/engine-fixtures.js';

const dirs = tempDirs('shardledger-checksum-');
afterEach(() => dirs.cleanup());

/** The record codec's msgpack options (packr.ts), to write a record of version 3 (no checksum). */
const packr = new Packr({
  useRecords: false,
  useBigIntExtension: true,
  moreTypes: true,
  structuredClone: false,
});

/** Opens the dir's LMDB env alone (no engine), runs `change`, and closes it durably. */
async function withDatabases(
  dir: string,
  change: (db: ShardDatabases) => Promise<unknown>,
): Promise<void> {
  const db = openShardDatabases(dir, 1024 ** 3);
  try {
    await change(db);
    await db.env.flushed;
  } finally {
    await db.env.close();
  }
}

/** A dir with accounts a, b (record 1) and three records of ten transfers t-<record>-<n>. Returns
 * the keys (first sequences) of the log records, in order. */
async function writtenDir(options: {
  snapshotAtEnd: boolean;
}): Promise<{ dir: string; keys: number[] }> {
  const dir = await dirs.make();
  const engine = await ShardEngine.open({
    dir,
    clock: new TestClock().read,
    snapshotIntervalMs: 0,
  });
  await engine.submit([account('a'), account('b')]);
  for (let record = 1; record <= 3; record++) {
    const commands: Command[] = [];
    for (let index = 0; index < 10; index++)
      commands.push(transfer(`t-${record}-${index}`, 'a', 'b', BigInt(index + 1)));
    await engine.submit(commands);
  }
  if (options.snapshotAtEnd) await engine.snapshot();
  await engine.close();
  const keys: number[] = [];
  await withDatabases(dir, async (db) => {
    for (const { key } of db.log.getRange({})) keys.push(key);
  });
  return { dir, keys };
}

/** Changes one character of the id `from` inside the log record at `key` (to `to`, same length),
 * leaving everything else of the record as it was: bit rot that still decodes. */
async function changeIdInRecord(dir: string, key: number, from: string, to: string): Promise<void> {
  await withDatabases(dir, async (db) => {
    const value = Buffer.from(db.log.getBinary(key) as Buffer);
    const at = value.indexOf(from, 0, 'latin1');
    expect(at).toBeGreaterThan(0);
    value.write(to, at, 'latin1');
    await db.log.put(key, value);
  });
}

async function rejection(promise: Promise<unknown>): Promise<LedgerError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!isLedgerError(error)) throw new Error(`expected a LedgerError, got ${String(error)}`);
  return error;
}

describe('log record checksums', () => {
  it('refuses to open a log whose last record was changed, naming the shard dir and its sequence', async () => {
    const { dir, keys } = await writtenDir({ snapshotAtEnd: false });
    const last = keys[keys.length - 1] as number;
    await changeIdInRecord(dir, last, 't-3-4', 't-3-9');
    const error = await rejection(ShardEngine.open({ dir }));
    expect(error.code).toBe('STORAGE_CORRUPT');
    expect(error.detail).toMatchObject({
      dir,
      sequence: last,
      problem: 'log record checksum mismatch',
    });
  });

  it('refuses an earlier changed record at recovery when no snapshot covers it', async () => {
    const { dir, keys } = await writtenDir({ snapshotAtEnd: false });
    const second = keys[1] as number;
    await changeIdInRecord(dir, second, 't-1-2', 't-1-7');
    const error = await rejection(ShardEngine.open({ dir }));
    expect(error).toMatchObject({ code: 'STORAGE_CORRUPT', detail: { dir, sequence: second } });
  });

  it('reports a changed record behind a snapshot from verify(), readEvents and readRecords, with its sequence', async () => {
    const { dir, keys } = await writtenDir({ snapshotAtEnd: true });
    const second = keys[1] as number;
    await changeIdInRecord(dir, second, 't-1-2', 't-1-7');
    // Recovery starts from the snapshot and never reads that record.
    const engine = await ShardEngine.open({ dir });
    try {
      const report = await engine.verify();
      expect(report.ok).toBe(false);
      expect(report.violations[0]).toEqual({
        rule: 'storage_intact',
        detail: `STORAGE_CORRUPT: dir=${dir}, sequence=${second}, problem=log record checksum mismatch`,
      });
      expect(await rejection(engine.readEvents(0, 1_000))).toMatchObject({
        code: 'STORAGE_CORRUPT',
        detail: { dir, sequence: second },
      });
      expect(await rejection(engine.readRecords(0, 1_000))).toMatchObject({
        code: 'STORAGE_CORRUPT',
        detail: { dir, sequence: second },
      });
    } finally {
      await engine.close();
    }
  });

  it('reads records written before checksums, and writes every new record with one', async () => {
    const { dir, keys } = await writtenDir({ snapshotAtEnd: false });
    // The dir as the previous format left it: bare records, formatVersion 2.
    await withDatabases(dir, async (db) => {
      for (const key of keys) {
        const stored = db.log.getBinary(key) as Buffer;
        expect(hasChecksum(stored)).toBe(true);
        const { crc: _crc, ...record } = packr.unpack(stored) as { crc: number; v: number };
        await db.log.put(key, packr.pack({ ...record, v: 3 }));
      }
      await db.meta.put('formatVersion', 2);
    });
    const engine = await ShardEngine.open({ dir });
    try {
      expect(await engine.verify()).toMatchObject({ ok: true, eventsReplayed: 32 });
      expect((await engine.lookupTransfers(['t-2-5']))[0]?.amount).toBe(6n);
      expect((await engine.submit([transfer('t-4-0', 'a', 'b', 1n)]))[0]?.status).toBe('ok');
      expect((await engine.readRecords(0, 1_000)).length).toBe(keys.length + 1);
    } finally {
      await engine.close();
    }
    await withDatabases(dir, async (db) => {
      expect(db.meta.get('formatVersion')).toBe(shardFormatVersion);
      const checked = [...db.log.getRange({})].map(({ value }) => hasChecksum(value as Buffer));
      expect(checked).toEqual([...keys.map(() => false), true]);
    });
  });
});
