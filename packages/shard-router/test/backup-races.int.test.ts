// Goal: a backup racing a shard worker's death, close() or another backup ends in a typed error or a consistent copy, fails no write, and close() always resolves. Method: real ledgers, worker threads and files under concurrent cross-shard writers; a worker ended at the backup failpoint; close() called at successive event-loop turns after backup().
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Ledger, isLedgerError, type TransferInput } from '../src/index.js';
import { failpointNames } from '../src/testing.js';
import { tempDir } from '@shardledger/ledger-core/testing';
import { errorCodeOf, ledgerTotals } from './ledger-fixtures.js';

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

describe('Ledger.backup in races', () => {
  it('fails with SHARD_UNAVAILABLE when a worker dies at its cut, fails no write, and a retry opens consistent', async () => {
    const base = await freshDir('backup-restart');
    const ledger = await Ledger.open({ dir: join(base, 'data'), shards: 2 });
    cleanups.unshift(() => ledger.close());
    await ledger.createAccounts(accounts.map((id) => ({ id, currency: 'EUR' })));
    const load = startWriters(ledger, 2);
    await load.ended(4);
    const restarted = new Promise((resolve) => ledger.shardClient(1).onRestart(resolve));
    await ledger
      .shardClient(1)
      .armFailpoint(failpointNames.shardBackupBefore, { action: 'exit-worker' });
    expect(await errorCodeOf(ledger.backup(join(base, 'copy')))).toBe('SHARD_UNAVAILABLE');
    await restarted;
    expect(existsSync(join(base, 'copy', 'manifest.json'))).toBe(false);
    await load.ended(load.endedCount() + 4);
    await ledger.backup(join(base, 'retry'));
    await load.stop();
    // The dead worker had nothing but the cut in flight: the calls held meanwhile went to its
    // successor.
    expect(load.failures).toEqual([]);
    await ledger.close();
    await expectConsistentCopy(join(base, 'retry'));
  });

  it('racing close() or another backup, ends in a consistent copy or a typed error, and close() resolves', async () => {
    const base = await freshDir('backup-race');
    // Close at successive turns after backup() starts. Where the close lands (before the cut,
    // under the barrier, during the copy) depends on the machine's speed: on the 2-core machine
    // the first ones finished their copies and the last ones were refused, so every outcome is
    // checked, none required.
    for (const turns of [0, 4, 16, 64]) {
      const dir = join(base, `data-${turns}`);
      const ledger = await Ledger.open({ dir, shards: 2 });
      await ledger.createAccounts(accounts.map((id) => ({ id, currency: 'EUR' })));
      const load = startWriters(ledger, 2);
      await load.ended(2);
      // Two backups into one target: whichever creates it first runs, the other is refused.
      const names = [`copy-${turns}-a`, `copy-${turns}-b`, `copy-${turns}-a`];
      const settled = names.map((name) => errorCodeOf(ledger.backup(join(base, name))));
      for (let turn = 0; turn < turns; turn += 1)
        await new Promise((resolve) => setImmediate(resolve));
      await ledger.close();
      await load.stop();
      const codes = await Promise.all(settled);
      expect([codes[0], codes[2]].filter((code) => code === 'INVALID_ARGUMENT')).toHaveLength(1);
      for (const [index, code] of codes.entries()) {
        if (code === 'INVALID_ARGUMENT') continue;
        if (code === undefined) await expectConsistentCopy(join(base, names[index] as string));
        else {
          expect(code).toBe('LEDGER_CLOSED');
          expect(existsSync(join(base, names[index] as string, 'manifest.json'))).toBe(false);
        }
      }
    }
  });
});

/** Writers of 50-transfer calls between accounts drawn across both shards, until stopped. */
function startWriters(
  ledger: Ledger,
  count: number,
): {
  ended: (calls: number) => Promise<void>;
  endedCount: () => number;
  stop: () => Promise<void>;
  failures: string[];
} {
  let stopped = false;
  let ended = 0;
  let next = 0;
  let waiters: { calls: number; resolve: () => void }[] = [];
  const failures: string[] = [];
  const writer = async (writerIndex: number): Promise<void> => {
    while (!stopped) {
      const transfers = Array.from({ length: 50 }, (): TransferInput => {
        const n = next++;
        const debit = (n * 7 + writerIndex) % accounts.length;
        const credit = (debit + 1 + ((n * 13) % (accounts.length - 1))) % accounts.length;
        return {
          id: `w-${String(n).padStart(8, '0')}`,
          debitAccountId: accounts[debit] as string,
          creditAccountId: accounts[credit] as string,
          amount: BigInt(1 + (n % 997)),
          currency: 'EUR',
        };
      });
      try {
        for (const result of await ledger.createTransfers(transfers))
          if (result.status !== 'ok') failures.push(result.status);
      } catch (error) {
        // Closing the ledger under the writers ends them; anything else is a failure, recorded.
        if (isLedgerError(error, 'LEDGER_CLOSED')) stopped = true;
        else failures.push(String(error));
      }
      ended += 1;
      for (const waiter of waiters) if (ended >= waiter.calls) waiter.resolve();
      waiters = waiters.filter((waiter) => ended < waiter.calls);
    }
  };
  const running = Array.from({ length: count }, (_, index) => writer(index));
  return {
    ended: (calls) =>
      ended >= calls
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ calls, resolve })),
    endedCount: () => ended,
    stop: async () => {
      stopped = true;
      await Promise.all(running);
    },
    failures,
  };
}

/** Opens a backup and checks it as any data dir: verify() clean, no saga left open. */
async function expectConsistentCopy(dir: string): Promise<void> {
  const copy = await Ledger.open({ dir });
  try {
    const report = await copy.verify();
    expect(report.violations).toEqual([]);
    expect(report.ok).toBe(true);
    expect((await ledgerTotals(copy)).reservationsOpen).toBe(0);
  } finally {
    await copy.close();
  }
}
