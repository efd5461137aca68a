// Goal: a cross-shard saga whose step timed out (the call rejected with TIMEOUT) still owns its
// transfer id while that step waits in a shard's queue: a retry of the id between accounts of a
// third shard is refused, and the saga then settles to exactly one transfer. Method: a real
// 3-shard ledger with a 1 ms step timeout, the two shards of the saga busy with large calls, so
// that its reservations wait in their queues past the timeout.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Ledger, type TransferInput } from '../src/index.js';
import { tempDir } from '@shardledger/ledger-core/testing';
import { errorCodeOf, idOnShard, ledgerTotals } from './ledger-fixtures.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

function eur(
  id: string,
  debitAccountId: string,
  creditAccountId: string,
  amount: bigint,
): TransferInput {
  return { id, debitAccountId, creditAccountId, amount, currency: 'EUR' };
}

describe('a saga step that timed out', () => {
  it('keeps its transfer id: a retry elsewhere is refused, and the saga settles once', async () => {
    const { dir, cleanup } = await tempDir('saga-timeout');
    cleanups.push(cleanup);
    const ledger = await Ledger.open({
      dir,
      shards: 3,
      durability: 'relaxed',
      sagaStepTimeoutMs: 1,
    });
    cleanups.unshift(() => ledger.close());
    const taken = new Set<string>();
    const [a0, b0] = [idOnShard(ledger, 0, 'a0', taken), idOnShard(ledger, 0, 'b0', taken)];
    const [a1, b1] = [idOnShard(ledger, 1, 'a1', taken), idOnShard(ledger, 1, 'b1', taken)];
    const [a2, b2] = [idOnShard(ledger, 2, 'a2', taken), idOnShard(ledger, 2, 'b2', taken)];
    await ledger.createAccounts([a0, b0, a1, b1, a2, b2].map((id) => ({ id, currency: 'EUR' })));
    let timedOut = 0;
    for (let round = 0; round < 5; round += 1) {
      // Large calls ('z' ids, above the saga's) keep shards 1 and 2 busy for many milliseconds.
      const busy = [1, 2].map((shard) => {
        const [debit, credit] = shard === 1 ? [a1, b1] : [a2, b2];
        return ledger.createTransfers(
          Array.from({ length: 8190 }, (_, index) =>
            eur(`z-${round}-${shard}-${String(index).padStart(5, '0')}`, debit, credit, 1n),
          ),
        );
      });
      // An atomic group runs as one saga with awaited steps; both its reservations queue behind.
      const id = `a-${round}`;
      const group = await errorCodeOf(ledger.createAtomicGroup([eur(id, a1, a2, 7n)]));
      if (group === 'TIMEOUT') timedOut += 1;
      // The same id between two accounts of shard 0, which the saga does not touch.
      const [retry] = await ledger.createTransfers([eur(id, a0, b0, 5n)]);
      expect(retry?.status === 'ok' ? `${id} applied twice` : 'refused').toBe('refused');
      await Promise.all(busy);
    }
    expect(timedOut).toBeGreaterThan(0);
    const report = await ledger.verify();
    expect(report.violations).toEqual([]);
    const [a0After, b0After] = await ledger.lookupAccounts([a0, b0]);
    expect(a0After?.debitsPosted).toBe(0n);
    expect(b0After?.creditsPosted).toBe(0n);
    const sagas = await ledger.lookupTransfers(
      Array.from({ length: 5 }, (_, round) => `a-${round}`),
    );
    for (const transfer of sagas) {
      expect(transfer).toMatchObject({
        debitAccountId: a1,
        creditAccountId: a2,
        amount: 7n,
        state: 'posted',
      });
    }
    expect((await ledgerTotals(ledger)).reservationsOpen).toBe(0);
  });

  it('is set per ledger, and a bad value is refused before the dir is touched', async () => {
    const { dir, cleanup } = await tempDir('saga-timeout-option');
    cleanups.push(cleanup);
    for (const sagaStepTimeoutMs of [
      0,
      -5,
      1.5,
      3_600_001,
      Number.NaN,
      '100' as unknown as number,
    ]) {
      expect(
        await errorCodeOf(Ledger.open({ dir: join(dir, 'never'), shards: 2, sagaStepTimeoutMs })),
      ).toBe('INVALID_ARGUMENT');
    }
    expect(existsSync(join(dir, 'never'))).toBe(false);
    const ledger = await Ledger.open({
      dir: join(dir, 'ok'),
      shards: 2,
      sagaStepTimeoutMs: 3_600_000,
    });
    await ledger.close();
  });
});
