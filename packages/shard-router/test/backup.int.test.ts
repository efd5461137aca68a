// Goal: Ledger.backup copies a running ledger into a data dir of its own that holds every call
// acknowledged before the backup, none started after it, and opens consistent; bad targets are
// refused before anything is written; a backup cut short by SIGKILL never opens as a ledger and
// leaves the source whole. Method: real ledgers, real files, concurrent writers (half of the
// transfers cross shards), and a child process killed at the backup failpoint.
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Ledger, type TransferInput } from '../src/index.js';
import { sleep, tempDir } from '@shardledger/ledger-core/testing';
import { errorCodeOf, ledgerTotals, runToExit } from './ledger-fixtures.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function freshDir(prefix: string): Promise<string> {
  const { dir, cleanup } = await tempDir(prefix);
  cleanups.push(cleanup);
  return dir;
}

const accounts = Array.from({ length: 24 }, (_, index) => `acct-${index}`);

interface Call {
  readonly transfers: TransferInput[];
  readonly startedAt: number;
  endedAt: number | null;
  statuses: string[];
}

describe('Ledger.backup', () => {
  it('holds every call acknowledged before it and none started after it, and opens consistent', async () => {
    const base = await freshDir('backup');
    const ledger = await Ledger.open({ dir: join(base, 'data'), shards: 2 });
    await ledger.createAccounts(accounts.map((id) => ({ id, currency: 'EUR' })));
    const calls: Call[] = [];
    let next = 0;
    let stop = false;
    const ended = (): number => calls.filter((call) => call.endedAt !== null).length;
    const writer = async (writerIndex: number): Promise<void> => {
      while (!stop) {
        const transfers = Array.from({ length: 100 }, (): TransferInput => {
          const n = next++;
          const debit = (n * 7 + writerIndex) % accounts.length;
          const credit = (debit + 1 + ((n * 13) % (accounts.length - 1))) % accounts.length;
          return {
            id: `t-${String(n).padStart(8, '0')}`,
            debitAccountId: accounts[debit] as string,
            creditAccountId: accounts[credit] as string,
            amount: BigInt(1 + (n % 997)),
            currency: 'EUR',
          };
        });
        const call: Call = { transfers, startedAt: performance.now(), endedAt: null, statuses: [] };
        calls.push(call);
        call.statuses = (await ledger.createTransfers(transfers)).map((result) => result.status);
        call.endedAt = performance.now();
      }
    };
    const waitForEnded = async (count: number): Promise<void> => {
      while (ended() < count) await sleep(5);
    };
    const writers = [0, 1, 2].map((index) => writer(index));
    await waitForEnded(15);
    await ledger.snapshot();
    await waitForEnded(ended() + 5);
    const calledAt = performance.now();
    const backup = await ledger.backup(join(base, 'copy'));
    const doneAt = performance.now();
    await waitForEnded(ended() + 15);
    stop = true;
    await Promise.all(writers);
    await ledger.close();

    expect(backup.dir).toBe(join(base, 'copy'));
    expect(readdirSync(join(base, 'copy')).sort()).toEqual([
      'manifest.json',
      'shard-000',
      'shard-001',
    ]);
    expect(backup.shards.map((shard) => shard.snapshots)).toEqual([1, 1]);
    for (const shard of backup.shards) expect(shard.sequenceAtLeast).toBeGreaterThan(0);
    const before = calls.filter((call) => call.endedAt !== null && call.endedAt < calledAt);
    const after = calls.filter((call) => call.startedAt > doneAt);
    expect(before.length).toBeGreaterThanOrEqual(20);
    expect(after.length).toBeGreaterThan(0);
    for (const call of calls) expect(call.statuses.every((status) => status === 'ok')).toBe(true);

    const copy = await Ledger.open({ dir: join(base, 'copy') });
    cleanups.unshift(() => copy.close());
    const report = await copy.verify();
    expect(report.violations).toEqual([]);
    expect(report.ok).toBe(true);
    for (const shard of (await copy.info()).shardInfo)
      expect(shard.recoveredFromSnapshot).not.toBeNull();
    const all = calls.flatMap((call) => call.transfers);
    const found = await copy.lookupTransfers(all.map((transfer) => transfer.id));
    const foundById = new Map(
      found.flatMap((transfer) => (transfer === undefined ? [] : [[transfer.id, transfer]])),
    );
    for (const call of before)
      for (const transfer of call.transfers)
        expect(foundById.get(transfer.id)?.state).toBe('posted');
    for (const call of after)
      for (const transfer of call.transfers) expect(foundById.has(transfer.id)).toBe(false);
    // Balances are exactly the transfers the copy holds: none half-applied, none counted twice.
    const expected = new Map(accounts.map((id) => [id, { debits: 0n, credits: 0n }]));
    for (const transfer of foundById.values()) {
      expect(transfer.state).toBe('posted');
      (expected.get(transfer.debitAccountId) as { debits: bigint }).debits += transfer.amount;
      (expected.get(transfer.creditAccountId) as { credits: bigint }).credits += transfer.amount;
    }
    const balances = await copy.lookupAccounts(accounts);
    balances.forEach((account, index) => {
      const want = expected.get(accounts[index] as string);
      expect({ debits: account?.debitsPosted, credits: account?.creditsPosted }).toEqual(want);
    });
    const totals = await ledgerTotals(copy);
    expect(totals.reservationsOpen).toBe(0);
    expect(totals.debitsPending + totals.creditsPending).toBe(0n);
  });

  it('refuses a target that exists or lies inside the data dir, and a closed ledger, writing nothing', async () => {
    const base = await freshDir('backup-refused');
    const ledger = await Ledger.open({ dir: join(base, 'data'), shards: 2 });
    await ledger.createAccounts([
      { id: 'a', currency: 'EUR' },
      { id: 'b', currency: 'EUR' },
    ]);
    await mkdir(join(base, 'empty'));
    await mkdir(join(base, 'full'));
    await writeFile(join(base, 'full', 'keep.txt'), 'keep');
    expect(await errorCodeOf(ledger.backup(join(base, 'empty')))).toBe('INVALID_ARGUMENT');
    expect(await errorCodeOf(ledger.backup(join(base, 'full')))).toBe('INVALID_ARGUMENT');
    expect(await errorCodeOf(ledger.backup(join(base, 'data', 'inside')))).toBe('INVALID_ARGUMENT');
    expect(await errorCodeOf(ledger.backup(join(base, 'data')))).toBe('INVALID_ARGUMENT');
    expect(await errorCodeOf(ledger.backup(''))).toBe('INVALID_ARGUMENT');
    expect(readdirSync(join(base, 'empty'))).toEqual([]);
    expect(readdirSync(join(base, 'full'))).toEqual(['keep.txt']);
    expect(existsSync(join(base, 'data', 'inside'))).toBe(false);
    await ledger.close();
    expect(await errorCodeOf(ledger.backup(join(base, 'late')))).toBe('LEDGER_CLOSED');
    expect(existsSync(join(base, 'late'))).toBe(false);
  });

  it('cut short by SIGKILL, the copy does not open as a ledger and the source is whole', async () => {
    const base = await freshDir('backup-killed');
    const fixture = fileURLToPath(new URL('./fixtures/backup-killed.mjs', import.meta.url));
    const { stdout, stderr, signal } = await runToExit(fixture, [
      join(base, 'data'),
      join(base, 'copy'),
    ]);
    expect(stderr).toBe('');
    expect(signal).toBe('SIGKILL');
    const wrote = /^wrote (\d+) (\d+)$/m.exec(stdout);
    expect(wrote).not.toBeNull();
    expect(stdout).not.toContain('backup done');
    expect(existsSync(join(base, 'copy'))).toBe(true);
    expect(existsSync(join(base, 'copy', 'manifest.json'))).toBe(false);
    expect(existsSync(join(base, 'copy', 'BACKUP-INCOMPLETE'))).toBe(true);
    expect(await errorCodeOf(Ledger.open({ dir: join(base, 'copy') }))).toBe('NOT_A_LEDGER');
    expect(existsSync(join(base, 'copy', 'manifest.json'))).toBe(false);

    const source = await Ledger.open({ dir: join(base, 'data') });
    cleanups.unshift(() => source.close());
    expect((await source.verify()).ok).toBe(true);
    const count = Number(wrote?.[1]);
    const ids = Array.from({ length: count }, (_, n) => `t-${String(n).padStart(6, '0')}`);
    expect(
      (await source.lookupTransfers(ids)).every((transfer) => transfer?.state === 'posted'),
    ).toBe(true);
    expect((await ledgerTotals(source)).debitsPosted).toBe(BigInt(wrote?.[2] ?? -1));
  });
});
