// Goal: the public Ledger contract for reads and checks holds: history and balance as of, verify's
// report, and an orphan reservation reported then rolled back on the next open.
// Method: real 4-shard ledgers (compiled workers, LMDB in mkdtemp dirs).
import { describe, expect, it } from 'vitest';
import { parseTransfer } from '@shardledger/ledger-core';
import { ledgerTotals, usd } from './ledger-fixtures.js';
import { dir, open, openLedger, seed, useLedgerDir } from './ledger-int-fixtures.js';

useLedgerDir();

describe('Ledger public API', () => {
  it('serves account history and balance as of a past sequence or timestamp through the Ledger', async () => {
    const ledger = await openLedger();
    const { bank, a0, c1 } = await seed(ledger);
    await ledger.createTransfer(usd('h-1', bank, a0, 100n));
    await ledger.createTransfer(usd('h-2', bank, a0, 200n));
    await ledger.createTransfer(usd('h-3', a0, c1, 50n)); // cross-shard: reserved, then committed

    const page = await ledger.accountHistory(a0);
    const ids = page.entries.map((entry) => entry.transferId);
    expect(ids.slice(0, 2)).toEqual(['h-1', 'h-2']);
    expect(ids.every((id) => ['h-1', 'h-2', 'h-3'].includes(id))).toBe(true);
    const last = page.entries[page.entries.length - 1];
    expect(last).toMatchObject({
      transferId: 'h-3',
      debitsPosted: 50n,
      creditsPosted: 300n,
      debitsPending: 0n,
    });
    const sequences = page.entries.map((entry) => entry.sequence);
    expect([...sequences].sort((left, right) => left - right)).toEqual(sequences);

    const firstPage = await ledger.accountHistory(a0, { limit: 1 });
    expect(firstPage.entries.map((entry) => entry.transferId)).toEqual(['h-1']);
    expect(firstPage.next).not.toBeNull();
    const secondPage = await ledger.accountHistory(a0, {
      after: firstPage.next,
      limit: 1,
    });
    expect(secondPage.entries.map((entry) => entry.transferId)).toEqual(['h-2']);

    const afterFirst = page.entries[0];
    expect(afterFirst).toBeDefined();
    const asOfSequence = await ledger.balanceAsOf(a0, { sequence: afterFirst?.sequence as number });
    expect(asOfSequence).toMatchObject({
      id: a0,
      creditsPosted: 100n,
      debitsPosted: 0n,
      balance: 100n,
    });
    const asOfTimestamp = await ledger.balanceAsOf(a0, {
      timestamp: page.entries[1]?.timestamp as bigint,
    });
    expect(asOfTimestamp).toMatchObject({ creditsPosted: 300n, balance: 300n });
    const now = await ledger.balanceAsOf(a0, {});
    expect(now?.balance).toBe(250n);
    expect(await ledger.balanceAsOf('ghost', {})).toBeUndefined();
    expect((await ledger.accountHistory('ghost')).entries).toEqual([]);
  });

  it('verifies clean with the documented shape on an empty ledger and after mixed traffic', async () => {
    const ledger = await openLedger();
    const empty = await ledger.verify();
    expect(empty).toEqual({ ok: true, violations: [], eventsReplayed: 0 });

    const { bank, a0, c1, d2 } = await seed(ledger);
    await ledger.createTransfers([
      usd('v-1', bank, a0, 10n),
      usd('v-2', bank, c1, 10n),
      usd('v-3', d2, c1, 11n),
      usd('v-4', a0, d2, 3n),
    ]);
    const report = await ledger.verify();
    expect(report.ok).toBe(true);
    expect(Array.isArray(report.violations)).toBe(true);
    expect(report.violations).toHaveLength(0);
    expect(report.eventsReplayed).toBeGreaterThanOrEqual(5 + 3);
    const info = await ledger.info();
    expect(info).toMatchObject({
      dir,
      shards: 4,
      durability: 'strict',
      recovery: { sagasCommitted: 0, sagasReleased: 0 },
    });
    expect(info.shardInfo).toHaveLength(4);
    const totals = await ledgerTotals(ledger);
    expect(totals).toMatchObject({
      debitsPosted: 34n,
      creditsPosted: 34n,
      debitsPending: 0n,
      creditsPending: 0n,
      reservationsOpen: 0,
    });
    expect(await ledger.snapshot()).toHaveLength(4);
    expect((await ledger.verify()).ok).toBe(true);
  });

  it('reports an orphan reservation as violations without throwing, and the next open rolls it back', async () => {
    const ledger = await openLedger();
    const { bank, c1 } = await seed(ledger);
    // A saga that reserved its debit leg on shard 0 and then vanished before touching shard 1:
    // the ReserveFunds step is sent straight to the shard, as the coordinator would.
    const parsed = parseTransfer(usd('orphan-1', bank, c1, 70n));
    if (!parsed.ok) throw new Error(parsed.code);
    const [reserved] = await ledger.shardClient(0).submit([
      {
        type: 'ReserveFunds',
        sagaId: 'orphan-saga',
        participants: [0, 1],
        legs: [{ side: 'debit', transfer: parsed.value }],
      },
    ]);
    expect(reserved?.status).toBe('ok');

    const report = await ledger.verify();
    expect(report.ok).toBe(false);
    const rules = report.violations.map((violation) => [violation.rule, violation.shard]);
    expect(rules).toContainEqual(['no_open_reservations', 0]);
    expect(rules).toContainEqual(['pending_debits_equal_pending_credits', null]);
    for (const violation of report.violations) expect(typeof violation.detail).toBe('string');
    await ledger.close();
    open.pop();

    // Shard 1 never heard of the saga, so recovery releases it everywhere.
    const reopened = await openLedger();
    expect((await reopened.info()).recovery).toEqual({ sagasCommitted: 0, sagasReleased: 1 });
    expect(await reopened.verify()).toMatchObject({ ok: true, violations: [] });
    expect((await reopened.lookupAccounts([bank]))[0]).toMatchObject({
      debitsPending: 0n,
      debitsPosted: 0n,
    });
    expect((await reopened.lookupTransfers(['orphan-1']))[0]).toBeUndefined();
    // The id was freed by the rollback: a retry applies now.
    expect((await reopened.createTransfer(usd('orphan-1', bank, c1, 70n))).status).toBe('ok');
  });
});
