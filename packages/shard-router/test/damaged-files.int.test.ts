// Goal: a damaged shard file (events.mdb cut short, a meta page zeroed or overwritten, garbage in
// a page of the id index) is refused with STORAGE_CORRUPT or reported by verify(), never a crash
// by signal and never a silent open. Method: a real 2-shard ledger written here, its shard-001
// file damaged with plain file writes, then opened in a child process (fixtures/open-verify.mjs)
// whose exit code, signal and output are checked.
import { cp, open, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger, type TransferInput } from '../src/index.js';
import { seededRandom, tempDir } from '@shardledger/ledger-core/testing';
import { idOnShard, runToExit } from './ledger-fixtures.js';

const fixture = fileURLToPath(new URL('./fixtures/open-verify.mjs', import.meta.url));
/** LMDB's page header: the page number at byte 0, the flags at byte 18. */
const P_LEAF = 0x02;
const P_OVERFLOW = 0x04;
const PAGE_SIZE_BYTES = 4096;

interface ChildReport {
  readonly refused?: string;
  readonly detail?: Record<string, unknown>;
  readonly opened?: boolean;
  readonly ok?: boolean;
  readonly violations?: { rule: string; detail: string; shard: number | null }[];
  readonly found?: boolean[];
}

async function openInChild(dir: string, ids: readonly string[] = []): Promise<ChildReport> {
  const { stdout, stderr, code, signal } = await runToExit(fixture, [dir, ...ids]);
  // A signal here is what this file guards against: LMDB mapping a damaged file.
  expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
  return JSON.parse(stdout.trim()) as ChildReport;
}

let base = '';
let cleanup: () => Promise<void> = async () => undefined;
/** A clean 2-shard ledger, copied before each damage. */
let pristine = '';
/** Transfer ids on shard 1 whose records are in the id index (not the plain lane's runs). */
const indexedIds: string[] = [];

beforeAll(async () => {
  ({ dir: base, cleanup } = await tempDir('damaged-files'));
  pristine = join(base, 'pristine');
  const ledger = await Ledger.open({ dir: pristine, shards: 2, snapshotIntervalMs: 0 });
  const taken = new Set<string>();
  const debit = idOnShard(ledger, 1, 'debit', taken);
  const credit = idOnShard(ledger, 1, 'credit', taken);
  await ledger.createAccounts([debit, credit].map((id) => ({ id, currency: 'EUR' })));
  // Descending ids: each is below the largest id seen, so the engine indexes it in the
  // `transfers` db (the plain lane takes only ids above every id seen).
  for (let batch = 0; batch < 6; batch++) {
    const transfers: TransferInput[] = [];
    for (let index = 0; index < 100; index++) {
      const id = `idx-${String(999_999 - batch * 100 - index).padStart(6, '0')}`;
      indexedIds.push(id);
      transfers.push({
        id,
        debitAccountId: debit,
        creditAccountId: credit,
        amount: 1n,
        currency: 'EUR',
      });
    }
    const results = await ledger.createTransfers(transfers);
    expect(results.every((result) => result.status === 'ok')).toBe(true);
  }
  await ledger.close();
});

afterAll(() => cleanup());

/** A fresh copy of the clean ledger, and the path of its shard-001 events.mdb. */
async function copyOfLedger(name: string): Promise<{ dir: string; file: string }> {
  const dir = join(base, name);
  await cp(pristine, dir, { recursive: true });
  return { dir, file: join(dir, 'shard-001', 'events.mdb') };
}

async function writeAt(file: string, offset: number, bytes: Buffer): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.write(bytes, 0, bytes.length, offset);
  } finally {
    await handle.close();
  }
}

describe('a damaged events.mdb', () => {
  it('opens clean before any damage, as the baseline of the cases below', async () => {
    const { dir } = await copyOfLedger('clean');
    const report = await openInChild(dir, indexedIds.slice(0, 3));
    expect(report).toMatchObject({
      opened: true,
      ok: true,
      violations: [],
      found: [true, true, true],
    });
  });

  it('refuses a file cut short with STORAGE_CORRUPT naming the shard dir, where LMDB died of SIGBUS', async () => {
    const { dir, file } = await copyOfLedger('truncated');
    const { size } = await stat(file);
    await truncate(file, Math.floor(size / 2));
    const report = await openInChild(dir);
    expect(report.refused).toBe('STORAGE_CORRUPT');
    expect(report.detail).toMatchObject({ dir: join(dir, 'shard-001'), file: 'events.mdb' });
    expect(String(report.detail?.['problem'])).toMatch(
      /the file has \d+ bytes, its live meta page names \d+ pages/,
    );
  });

  it('refuses a zeroed meta page 0 with STORAGE_CORRUPT, where LMDB died of SIGSEGV', async () => {
    const { dir, file } = await copyOfLedger('zeroed-meta');
    await writeAt(file, 0, Buffer.alloc(PAGE_SIZE_BYTES));
    const report = await openInChild(dir);
    expect(report).toMatchObject({
      refused: 'STORAGE_CORRUPT',
      detail: { dir: join(dir, 'shard-001'), problem: 'page 0 is not a meta page' },
    });
  });

  it('refuses garbage in meta page 1 with STORAGE_CORRUPT rather than falling back to an older transaction', async () => {
    const { dir, file } = await copyOfLedger('garbage-meta');
    const random = seededRandom(7);
    const garbage = Buffer.alloc(PAGE_SIZE_BYTES);
    for (let index = 0; index < garbage.length; index++)
      garbage[index] = Math.floor(random() * 256);
    await writeAt(file, PAGE_SIZE_BYTES, garbage);
    const report = await openInChild(dir);
    expect(report).toMatchObject({
      refused: 'STORAGE_CORRUPT',
      detail: { dir: join(dir, 'shard-001') },
    });
    expect(String(report.detail?.['problem'])).toMatch(/^meta page 1 /);
  });

  it('reports garbage in a page of the id index through verify(): the lost ids with their sequences, never an ok', async () => {
    const { dir, file } = await copyOfLedger('index-garbage');
    const bytes = await readFile(file);
    const marker = Buffer.from('idx-', 'latin1');
    const random = seededRandom(11);
    let damagedPages = 0;
    for (let page = 2; page * PAGE_SIZE_BYTES < bytes.length; page++) {
      const start = page * PAGE_SIZE_BYTES;
      // A leaf page of a B-tree (its header names its own page number), not an overflow page of
      // a log record: only the `transfers` db has leaves with these ids as keys. Freed older
      // copies of the same leaves match too; damaging them as well does no harm.
      if (bytes.readBigUInt64LE(start) !== BigInt(page)) continue;
      const flags = bytes.readUInt16LE(start + 18);
      if ((flags & P_LEAF) === 0 || (flags & P_OVERFLOW) !== 0) continue;
      const pageBytes = bytes.subarray(start, start + PAGE_SIZE_BYTES);
      let keys = 0;
      for (let at = pageBytes.indexOf(marker); at >= 2; at = pageBytes.indexOf(marker, at + 1)) {
        // A key of a leaf node: the node header's key size (10) just before it. Ids inside log
        // records (in leaves too, when small) are not node keys and stay as they are.
        if (pageBytes.readUInt16LE(at - 2) !== marker.length + 6) continue;
        keys++;
        // Garbage in the key's digits, the node headers left whole: the page still parses, its
        // keys are wrong, and lookups of the ids it held miss.
        for (let digit = at + marker.length; digit < at + marker.length + 6; digit++)
          pageBytes[digit] = 0x30 + Math.floor(random() * 10);
      }
      if (keys > 0) damagedPages++;
    }
    expect(damagedPages).toBeGreaterThan(0);
    await writeFile(file, bytes);
    const report = await openInChild(dir, indexedIds);
    // The damage is real: some ids the ledger acknowledged are no longer found.
    expect(report.found).toContain(false);
    expect(report.ok).toBe(false);
    const unindexed = (report.violations ?? []).filter(
      (violation) => violation.rule === 'transfer_indexed',
    );
    expect(unindexed.length).toBeGreaterThan(0);
    expect(unindexed.every((violation) => violation.shard === 1)).toBe(true);
    expect(unindexed[0]?.detail).toMatch(
      /^transfer "idx-\d{6}" \(sequence \d+\) is in the log but not found through the id index$/,
    );
  });
});
