// Goal: the change feed hands out every committed event of every shard once, in each shard's
// order, with its accounts' balances after it, resumes from its cursor, follows new writes, and
// holds a bounded number of events while its consumer stalls. Method: a real 2-shard ledger in a
// temp dir; the feed's events are compared with the shards' logs (readEvents), its balances with
// lookupAccounts and balanceAsOf.
import { tempDir } from '@shardledger/ledger-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SequencedEvent } from '@shardledger/ledger-core';
import { Ledger, type ChangeEvent } from '../src/index.js';
import { failpointNames } from '../src/testing.js';
import { errorCodeOfCall } from './ledger-fixtures.js';
import { collect, writeTransfers } from './feed-fixtures.js';

let ledger: Ledger;
let cleanup: () => Promise<void>;
const accounts = Array.from({ length: 8 }, (_, index) => `acct-${index}`);

/** Every event of every shard, as the shards' logs have them. */
async function shardLogs(): Promise<SequencedEvent[][]> {
  const logs: SequencedEvent[][] = [];
  for (let shard = 0; shard < ledger.shards; shard += 1) {
    const log: SequencedEvent[] = [];
    for (;;) {
      const page = await ledger.readEvents(shard, log.length, 1_000);
      if (page.length === 0) break;
      log.push(...page);
    }
    logs.push(log);
  }
  return logs;
}

function perShard(events: readonly ChangeEvent[], shards: number): ChangeEvent[][] {
  const split: ChangeEvent[][] = Array.from({ length: shards }, () => []);
  for (const change of events) split[change.shard]?.push(change);
  return split;
}

beforeAll(async () => {
  ({ dir: ledgerDir, cleanup } = await tempDir('change-feed'));
  ledger = await Ledger.open({ dir: ledgerDir, shards: 2, durability: 'relaxed' });
  const created = await ledger.createAccounts(
    accounts.map((id) => ({ id, currency: 'USD', flags: { history: true } })),
  );
  expect(created.every((result) => result.status === 'ok')).toBe(true);
  await writeTransfers(ledger, 't1', accounts, 400);
  const holds = (await ledger.lookupTransfers(['t1-0', 't1-11', 't1-22'])).map((t) => t?.id);
  await ledger.postPendingTransfers([{ id: 'p1', pendingId: holds[0] as string, amount: 1n }]);
  await ledger.voidPendingTransfers([{ id: 'v1', pendingId: holds[1] as string }]);
  expect(await ledger.createAccounts([{ id: 'frozen', currency: 'USD' }])).toEqual([
    { id: 'frozen', status: 'ok' },
  ]);
  await ledger.freezeAccounts(['frozen']);
});
let ledgerDir = '';

afterAll(async () => {
  await ledger.close();
  await cleanup();
});

describe('change feed', () => {
  it('hands out every event of every shard once, in order, as the logs have them', async () => {
    const feed = ledger.changes({ pageSizeEvents: 37 });
    const events = await collect(feed);
    const logs = await shardLogs();
    const split = perShard(events, ledger.shards);
    for (const [shard, log] of logs.entries()) {
      expect(log.length).toBeGreaterThan(10);
      expect(split[shard]?.map((change) => change.sequence)).toEqual(log.map((e) => e.sequence));
      expect(split[shard]?.map((change) => change.event)).toEqual(log.map((e) => e.event));
      expect(split[shard]?.map((change) => change.timestamp)).toEqual(
        log.map((e) => e.event.timestamp),
      );
    }
    expect(feed.cursor).toBe(logs.map((log, shard) => `${shard}:${log.length}`).join(','));
  });

  it("carries each account's balances after the event, as the shard's history has them", async () => {
    const events = await collect(ledger.changes());
    const last = new Map<string, ChangeEvent['balances'][number]>();
    for (const change of events)
      for (const balance of change.balances) last.set(balance.accountId, balance);
    const live = await ledger.lookupAccounts(accounts);
    expect(accounts.map((id) => last.get(id))).toEqual(
      live.map((account) => ({
        accountId: account?.id,
        debitsPosted: account?.debitsPosted,
        creditsPosted: account?.creditsPosted,
        debitsPending: account?.debitsPending,
        creditsPending: account?.creditsPending,
      })),
    );
    // Every 7th event: each balance equals balanceAsOf at that event's sequence.
    for (const change of events.filter((_, index) => index % 7 === 0)) {
      for (const balance of change.balances) {
        const asOf = await ledger.balanceAsOf(balance.accountId, { sequence: change.sequence });
        expect([
          asOf?.debitsPosted,
          asOf?.creditsPosted,
          asOf?.debitsPending,
          asOf?.creditsPending,
        ]).toEqual([
          balance.debitsPosted,
          balance.creditsPosted,
          balance.debitsPending,
          balance.creditsPending,
        ]);
      }
    }
  });

  it('resumes after a cursor with the events after it and the same balances', async () => {
    const all = await collect(ledger.changes());
    const feed = ledger.changes({ pageSizeEvents: 5 });
    const head: ChangeEvent[] = [];
    for await (const change of feed) {
      head.push(change);
      if (head.length === 123) break;
    }
    const rest = await collect(ledger.changes({ after: feed.cursor, pageSizeEvents: 64 }));
    expect(head.length + rest.length).toBe(all.length);
    const key = (change: ChangeEvent): string => `${change.shard}:${change.sequence}`;
    expect(new Set([...head, ...rest].map(key)).size).toBe(all.length);
    const bySequence = new Map(all.map((change) => [key(change), change]));
    for (const change of rest) expect(change).toEqual(bySequence.get(key(change)));
  });

  it('waits for a shard whose worker is replaced mid-feed, and hands out all of its events', async () => {
    const logs = await shardLogs();
    const restarted = new Promise((resolve) => ledger.shardClient(1).onRestart(resolve));
    // The third read of shard 1's log ends its worker; the client starts a new one.
    await ledger
      .shardClient(1)
      .armFailpoint(failpointNames.shardReadBefore, { action: 'exit-worker', after: 3 });
    const events = await collect(ledger.changes({ pageSizeEvents: 16 }));
    await restarted;
    const split = perShard(events, ledger.shards);
    for (const [shard, log] of logs.entries())
      expect(split[shard]?.map((change) => change.sequence)).toEqual(log.map((e) => e.sequence));
  });

  it('refuses a cursor that is malformed, of another shard count or past a shard', async () => {
    for (const after of ['x', '0:1', '0:1,2:3', '0:-1,1:0', '1:0,0:0']) {
      expect(await errorCodeOfCall(() => ledger.changes({ after }))).toBe('INVALID_ARGUMENT');
    }
    expect(await errorCodeOfCall(() => ledger.changes({ pageSizeEvents: 0 }))).toBe(
      'INVALID_ARGUMENT',
    );
    const feed = ledger.changes({ after: '0:999999,1:0' });
    expect(await errorCodeOfCall(() => feed.next())).toBe('INVALID_ARGUMENT');
  });

  it('follows new writes until its signal aborts', async () => {
    const before = await collect(ledger.changes());
    const controller = new AbortController();
    const feed = ledger.changes({ follow: true, signal: controller.signal });
    const seen: ChangeEvent[] = [];
    const following = (async () => {
      for await (const change of feed) {
        seen.push(change);
        if (seen.length === before.length + 30) controller.abort();
      }
    })();
    await writeTransfers(ledger, 't2', accounts, 60);
    await following;
    expect(seen.length).toBe(before.length + 30);
    const split = perShard(seen, ledger.shards);
    for (const [shard, events] of perShard(before, ledger.shards).entries())
      expect(split[shard]?.slice(0, events.length)).toEqual(events);
  });

  it('reads, right after a call is answered, the steps of its transfers between shards', async () => {
    // The caller is answered once both reservations are durable; the commit steps follow on
    // each shard, and a read issued after the answer waits for them.
    const debit = accounts.find((id) => ledger.shardOf(id) === 0) as string;
    const credit = accounts.find((id) => ledger.shardOf(id) === 1) as string;
    const before = await shardLogs();
    const results = await ledger.createTransfers(
      Array.from({ length: 50 }, (_, index) => ({
        id: `t4-${index}`,
        debitAccountId: debit,
        creditAccountId: credit,
        amount: 1n,
        currency: 'USD',
      })),
    );
    expect(results.every((result) => result.status === 'ok')).toBe(true);
    const [onDebit, onCredit] = await Promise.all(
      [0, 1].map((shard) =>
        ledger.readEvents(shard, (before[shard] as SequencedEvent[]).length, 1_000),
      ),
    );
    for (const events of [onDebit, onCredit]) {
      const committed = (events ?? []).flatMap(({ event }) =>
        event.type === 'ReservationCommitted' ? event.legs.map((leg) => leg.transfer.id) : [],
      );
      expect(new Set(committed).size).toBe(50);
    }
  });

  it('holds at most two pages per shard while its consumer stalls, and loses nothing', async () => {
    const feed = ledger.changes({ follow: true, pageSizeEvents: 20 });
    const first = await feed.next();
    expect(first.done).toBe(false);
    // A page is 20 events or up to one log record more (a call of at most 400 transfers).
    const heldMax = (): number => 2 * ledger.shards * (20 + 400);
    let held = feed.heldEvents;
    for (let round = 0; round < 8; round += 1) {
      await writeTransfers(ledger, `t3-${round}`, accounts, 400);
      held = Math.max(held, feed.heldEvents);
    }
    expect(held).toBeLessThanOrEqual(heldMax());
    const logs = await shardLogs();
    const total = logs.reduce((sum, log) => sum + log.length, 0);
    let count = 1;
    for await (const _change of feed) {
      count += 1;
      if (count === total) break;
    }
    expect(feed.cursor).toBe(logs.map((log, shard) => `${shard}:${log.length}`).join(','));
  });
});
