// Goal: a change feed resumed from a cursor past a snapshot reads each shard's log from that
// snapshot, not from its first event, and hands out the same events with the same balances as a
// feed that walked the whole log; a snapshot the log does not vouch for is not used. A feed from
// a time hands out each shard's events from that time on.
// Method: a real 2-shard ledger in a temp dir (transfers across shards, holds posted and voided,
// accounts created after the snapshot); the shard clients' log reads are watched with a spy.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@shardledger/ledger-core/testing';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { Ledger } from '../src/index.js';
import { collect, writeTransfers } from './feed-fixtures.js';

let ledger: Ledger;
let cleanup: () => Promise<void>;
const accounts = Array.from({ length: 8 }, (_, index) => `acct-${index}`);
/** Per shard, the sequence of the snapshot taken mid-way. */
let snapshotAt: number[] = [];

beforeAll(async () => {
  let dir: string;
  ({ dir, cleanup } = await tempDir('change-feed-snapshot'));
  ledger = await Ledger.open({ dir, shards: 2, durability: 'relaxed' });
  await ledger.createAccounts(accounts.map((id) => ({ id, currency: 'USD' })));
  await writeTransfers(ledger, 'a', accounts, 300);
  await ledger.postPendingTransfers([{ id: 'p-a', pendingId: 'a-11', amount: 1n }]);
  snapshotAt = (await ledger.snapshot()).map((taken) => taken.sequence);
  const later = ['late-0', 'late-1'];
  await ledger.createAccounts(later.map((id) => ({ id, currency: 'USD' })));
  await ledger.voidPendingTransfers([{ id: 'v-a', pendingId: 'a-22' }]);
  await writeTransfers(ledger, 'b', [...accounts, ...later], 300);
});

afterAll(async () => {
  await ledger.close();
  await cleanup();
});

/** Resumes a feed after `cursor` (per shard) and returns its events and, per shard, the first
 * sequence its log was read after. */
async function resume(cursor: readonly number[]) {
  const firstReads = cursor.map(() => -1);
  const spies = cursor.map((_, shard) => {
    const client = ledger.shardClient(shard);
    const read = client.readNewRecords.bind(client);
    return vi.spyOn(client, 'readNewRecords').mockImplementation((after, limit) => {
      if (firstReads[shard] === -1) firstReads[shard] = after;
      return read(after, limit);
    });
  });
  try {
    const after = cursor.map((sequence, shard) => `${shard}:${sequence}`).join(',');
    return { events: await collect(ledger.changes({ after })), firstReads };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

describe('change feed resumed past a snapshot', () => {
  it('reads each log from the snapshot and hands out what a walk from the first event does', async () => {
    const whole = await collect(ledger.changes());
    const cursor = snapshotAt.map((sequence) => sequence + 5);
    expect(snapshotAt.every((sequence) => sequence > 100)).toBe(true);
    const { events, firstReads } = await resume(cursor);
    expect(firstReads).toEqual(snapshotAt);
    const expected = whole.filter((change) => change.sequence > (cursor[change.shard] as number));
    expect(events.length).toBeGreaterThan(100);
    // Same events, sequences and balances, shard by shard.
    for (const shard of [0, 1])
      expect(events.filter((change) => change.shard === shard)).toEqual(
        expected.filter((change) => change.shard === shard),
      );
  });

  it('walks from the first event when the cursor is before the snapshot', async () => {
    const { events, firstReads } = await resume([3, 3]);
    expect(firstReads).toEqual([0, 0]);
    expect(events.length).toBeGreaterThan(500);
  });

  it('does not use a snapshot that the log does not vouch for', async () => {
    // Shard 0's snapshot, bound to another log record: its header's digest of the record it ends
    // at (bytes 56 to 88) no longer matches the log, though the file passes its own checksum.
    const snapshots = join(ledger.shardClient(0).dir, 'snapshots');
    const name = readdirSync(snapshots).find((file) => file.endsWith('.bin'));
    expect(name).toBeDefined();
    const path = join(snapshots, name!);
    const kept = readFileSync(path);
    const bound = Buffer.from(kept);
    bound[60] = (bound[60] as number) ^ 0xff;
    writeFileSync(path, bound);
    onTestFinished(() => writeFileSync(path, kept));
    const whole = await collect(ledger.changes());
    const cursor = [(snapshotAt[0] as number) + 1, 0];
    const { events, firstReads } = await resume(cursor);
    expect(firstReads[0]).toBe(0);
    expect(events.filter((change) => change.shard === 0)).toEqual(
      whole.filter((change) => change.shard === 0 && change.sequence > (cursor[0] as number)),
    );
  });
});

describe('change feed from a time', () => {
  it("hands out each shard's events at or after the time, and a cursor that resumes after them", async () => {
    const whole = await collect(ledger.changes());
    // Times inside the log, after the snapshot and before it, and before everything.
    const times = [whole[Math.floor(whole.length * 0.8)], whole[Math.floor(whole.length * 0.3)]]
      .map((change) => change!.timestamp)
      .concat([0n]);
    for (const from of times) {
      const feed = ledger.changes({ from });
      const events = await collect(feed);
      expect(events.length).toBeGreaterThan(0);
      for (const shard of [0, 1])
        expect(events.filter((change) => change.shard === shard)).toEqual(
          whole.filter((change) => change.shard === shard && change.timestamp >= from),
        );
      expect(await collect(ledger.changes({ after: feed.cursor }))).toEqual([]);
    }
  });

  it('refuses a time that is not a bigint of at least 0, or one given with a cursor', () => {
    for (const options of [{ from: -1n }, { from: 5 }, { from: 1n, after: '0:0,1:0' }]) {
      // Refused as the feed is made, before anything is read.
      let error: unknown = null;
      try {
        ledger.changes(options as never);
      } catch (thrown) {
        error = thrown;
      }
      expect((error as { code?: string } | null)?.code).toBe('INVALID_ARGUMENT');
    }
  });
});

describe('change feed resumed past a snapshot of many accounts and few events', () => {
  it('walks from the first event: reading the snapshot would cost more than the walk it saves', async () => {
    const { dir, cleanup: remove } = await tempDir('change-feed-accounts');
    const many = await Ledger.open({ dir, shards: 1, durability: 'relaxed' });
    try {
      const ids = Array.from({ length: 300 }, (_, index) => `many-${index}`);
      await many.createAccounts(ids.map((id) => ({ id, currency: 'USD' })));
      const transfers = ids.slice(1).map((id, index) => ({
        id: `m-${index}`,
        debitAccountId: ids[0] as string,
        creditAccountId: id,
        amount: 1n,
        currency: 'USD',
      }));
      await many.createTransfers(transfers);
      const [taken] = await many.snapshot();
      // 599 events, fewer than 4 per account: the walk is cheaper than the snapshot.
      expect(taken?.sequence).toBe(599);
      const client = many.shardClient(0);
      const read = client.readNewRecords.bind(client);
      const froms: number[] = [];
      vi.spyOn(client, 'readNewRecords').mockImplementation((after, limit) => {
        froms.push(after);
        return read(after, limit);
      });
      const events = await collect(many.changes({ after: '0:590' }));
      expect(froms[0]).toBe(0);
      expect(events.map((change) => change.sequence)).toEqual([
        591, 592, 593, 594, 595, 596, 597, 598, 599,
      ]);
    } finally {
      await many.close();
      await remove();
    }
  });
});
