// Goal: reading a snapshot's counters a slice at a time (what a resumed change feed starts from)
// gives every account's counters after the snapshot's sequence, wide ones included, and nothing
// for a file whose checks fail or that is bound to another log record.
// Method: a real ShardEngine on LMDB in a temp dir; the snapshot file damaged on disk.
import { readFileSync, writeFileSync } from 'node:fs';
import { setImmediate as turn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { readSnapshotBalances } from '../src/storage/snapshot-balances.js';
import { account, transfer, useEngines } from './fixtures/engine-fixtures.js';

const { dirs, openEngine } = useEngines('snapshot-balances-');

describe('readSnapshotBalances', () => {
  it("gives each account's counters after the snapshot, and null for a damaged or foreign file", async () => {
    const engine = await openEngine(await dirs.make());
    const ids = Array.from({ length: 5_000 }, (_, index) => `acct-${index}`);
    await engine.submit(ids.map((id) => account(id)));
    await engine.submit([
      // Counters past 2^53: kept as bigints in the snapshot.
      transfer('wide', 'acct-0', 'acct-1', 2n ** 60n),
      transfer('held', 'acct-2', 'acct-3', 7n, { pending: true }),
      ...ids.slice(4, 1_000).map((id, index) => transfer(`t-${index}`, id, 'acct-4999', 3n)),
    ]);
    const taken = await engine.snapshot();
    const views = await engine.lookupAccounts(ids);
    const digest = await engine.logDigestAt(taken.sequence);
    expect(digest).not.toBeNull();
    await engine.submit([transfer('after', 'acct-5', 'acct-6', 1n)]);

    const balances = await readSnapshotBalances(taken.file, taken.sequence, digest!, turn);
    expect(balances).toEqual(
      views.map((view) => ({
        accountId: view?.id,
        debitsPosted: view?.debitsPosted,
        creditsPosted: view?.creditsPosted,
        debitsPending: view?.debitsPending,
        creditsPending: view?.creditsPending,
      })),
    );
    expect(balances?.[0]?.debitsPosted).toBe(2n ** 60n);

    // Bound to another record, or named for another sequence: not this log's snapshot.
    const other = Buffer.from(digest!);
    other[0] = (other[0] as number) ^ 1;
    expect(await readSnapshotBalances(taken.file, taken.sequence, other, turn)).toBeNull();
    expect(await readSnapshotBalances(taken.file, taken.sequence - 1, digest!, turn)).toBeNull();
    // A flipped byte in the payload fails its checksum; a torn file its length.
    const bytes = readFileSync(taken.file);
    const flipped = Buffer.from(bytes);
    flipped[bytes.length - 10] = (flipped[bytes.length - 10] as number) ^ 0xff;
    writeFileSync(taken.file, flipped);
    expect(await readSnapshotBalances(taken.file, taken.sequence, digest!, turn)).toBeNull();
    writeFileSync(taken.file, bytes.subarray(0, bytes.length - 1));
    expect(await readSnapshotBalances(taken.file, taken.sequence, digest!, turn)).toBeNull();
  });
});
