// Goal: history and balance-as-of answer the same from the on-disk history index as from a log scan. Method: twin ShardEngines on real temp dirs fed one command stream, tracked accounts indexed in one and not in the other, compared page by page with checkpoints taken after each call, again after reopen and after snapshot + reopen.
import { afterEach, describe, expect, it } from 'vitest';
import { type Command, type HistoryPage, type ReservationLeg } from '../src/index.js';
import {
  commit,
  group,
  post,
  release,
  reserve,
  spec,
  transfer,
  voidPending,
} from './fixtures/engine-fixtures.js';
import {
  checkBalanceAsOf,
  checkTwins,
  closeTwins,
  reopenAt,
  countersOfEntry,
  HOUR_MS,
  TOO_MUCH,
  TRACKED,
  Twins,
  WIDE,
} from './fixtures/history-twins.js';

afterEach(closeTwins);

/** Plain, pending + post/void/expiry, groups, wide counters and rejections, mostly one call each. */
async function runWorkload(twins: Twins, round: string): Promise<void> {
  const expectStatuses = async (commands: Command[], statuses: string[]): Promise<void> => {
    expect(
      await twins.submit(commands),
      `${round}: ${commands.map((command) => command.type).join(',')}`,
    ).toEqual(statuses);
  };
  await expectStatuses([transfer(`${round}-fund-a`, 'bank', 'alice', 1_000n)], ['ok']);
  await expectStatuses([transfer(`${round}-fund-b`, 'bank', 'bob', 400n)], ['ok']);
  await expectStatuses([transfer(`${round}-t1`, 'alice', 'bob', 100n)], ['ok']);
  await expectStatuses(
    [transfer(`${round}-t2`, 'bob', 'alice', 30n, { metadata: { note: 'refund' } })],
    ['ok'],
  );
  // Rejections leave no posting: overdraft, unknown account, same account, changed resubmission.
  await expectStatuses(
    [
      transfer(`${round}-r1`, 'alice', 'bob', TOO_MUCH),
      transfer(`${round}-r2`, 'alice', 'nobody', 1n),
      transfer(`${round}-r3`, 'bob', 'bob', 1n),
      transfer(`${round}-t1`, 'alice', 'bob', 101n),
      transfer(`${round}-t1`, 'alice', 'bob', 100n),
    ],
    [
      'insufficient_funds',
      'account_not_found',
      'accounts_must_be_different',
      'exists_with_different_fields',
      'exists',
    ],
  );
  // Pending, then post (partial), void, a third left to expire; rejected resolutions.
  await expectStatuses([transfer(`${round}-h1`, 'alice', 'bob', 200n, { pending: true })], ['ok']);
  await expectStatuses([transfer(`${round}-h2`, 'bob', 'alice', 50n, { pending: true })], ['ok']);
  await expectStatuses(
    [transfer(`${round}-h3`, 'alice', 'other', 70n, { pending: true, timeoutMs: HOUR_MS })],
    ['ok'],
  );
  await expectStatuses([transfer(`${round}-r4`, 'alice', 'bob', TOO_MUCH)], ['insufficient_funds']);
  await expectStatuses([post(`${round}-p1`, `${round}-h1`, 150n)], ['ok']);
  await expectStatuses([voidPending(`${round}-v2`, `${round}-h2`)], ['ok']);
  await expectStatuses(
    [
      post(`${round}-p2`, `${round}-h2`),
      post(`${round}-p3`, `${round}-h1`),
      voidPending(`${round}-v9`, 'missing'),
    ],
    ['pending_already_voided', 'pending_already_posted', 'pending_not_found'],
  );
  // h3's timeout passes on the test clock (its real-time timer, an hour away, never fires here):
  // the next call expires it first, at the same time in both twins.
  twins.clock.advanceMs(HOUR_MS);
  await expectStatuses([transfer(`${round}-t3`, 'other', 'alice', 5n)], ['ok']);
  await expectStatuses([post(`${round}-p4`, `${round}-h3`)], ['pending_expired']);
  // A group posts to one account several times in one call; a failed group posts nothing.
  await expectStatuses(
    [
      group(
        spec(`${round}-g1`, 'alice', 'bob', 5n),
        spec(`${round}-g2`, 'bob', 'alice', 3n),
        spec(`${round}-g3`, 'alice', 'whale', 1n),
      ),
    ],
    ['ok'],
  );
  await expectStatuses(
    [group(spec(`${round}-g4`, 'alice', 'bob', 5n), spec(`${round}-g5`, 'bob', 'alice', TOO_MUCH))],
    ['insufficient_funds'],
  );
  // Counters above 2^53 (the wide encoding of the index).
  await expectStatuses([transfer(`${round}-w1`, 'bank', 'whale', WIDE + 7n)], ['ok']);
  await expectStatuses(
    [transfer(`${round}-w2`, 'whale', 'bob', 3n), transfer(`${round}-w3`, 'whale', 'alice', WIDE)],
    ['ok', 'ok'],
  );
  // Nine commands in one submit, each posting to alice: one entry per event.
  const many: Command[] = [];
  for (let index = 0; index < 9; index += 1)
    many.push(
      transfer(
        `${round}-m${index}`,
        index % 2 === 0 ? 'bank' : 'alice',
        index % 2 === 0 ? 'alice' : 'other',
        BigInt(index + 1),
      ),
    );
  await expectStatuses(
    many,
    many.map(() => 'ok'),
  );
}

/** Saga steps with one leg per account in each event (the shape the router sends when each
 * account appears once on this shard). */
async function runSagas(twins: Twins, round: string): Promise<void> {
  const debit = (id: string, from: string, amount: bigint): ReservationLeg => ({
    side: 'debit',
    transfer: spec(id, from, 'remote', amount),
  });
  const credit = (id: string, to: string, amount: bigint): ReservationLeg => ({
    side: 'credit',
    transfer: spec(id, 'remote', to, amount),
  });
  expect(
    await twins.submit([
      reserve(`${round}-s1`, debit(`${round}-x1`, 'alice', 11n), credit(`${round}-x2`, 'bob', 4n)),
    ]),
  ).toEqual(['ok']);
  expect(await twins.submit([commit(`${round}-s1`)])).toEqual(['ok']);
  expect(await twins.submit([reserve(`${round}-s2`, debit(`${round}-x3`, 'bob', 6n))])).toEqual([
    'ok',
  ]);
  expect(await twins.submit([release(`${round}-s2`)])).toEqual(['ok']);
  expect(
    await twins.submit([reserve(`${round}-s3`, debit(`${round}-x4`, 'alice', TOO_MUCH))]),
  ).toEqual(['insufficient_funds']);
}

describe('account history: history index versus log scan', () => {
  it('gives identical pages, cursors and counters for an indexed and a log-scanned account, before and after reopen and snapshot', async () => {
    const twins = await Twins.create();
    await runWorkload(twins, 'a');
    await runSagas(twins, 'a');
    const live = await checkTwins(twins);
    // Enough postings that every page size above splits the history.
    expect(live.alice.length).toBeGreaterThan(20);
    expect(new Set(live.alice.map((entry) => entry.eventType))).toEqual(
      new Set([
        'TransferCreated',
        'PendingTransferPosted',
        'PendingTransferVoided',
        'PendingTransferExpired',
        'FundsReserved',
        'ReservationCommitted',
      ]),
    );
    expect(live.whale.some((entry) => entry.creditsPosted > 2n ** 53n)).toBe(true);

    await twins.reopen();
    expect(twins.indexed.info().recoveredFromSnapshot).toBeNull();
    expect(await checkTwins(twins)).toEqual(live);

    // Snapshot, reopen from it, then more postings on top and reopen again (snapshot + tail).
    const [snapIndexed, snapScanned] = await Promise.all([
      twins.indexed.snapshot(),
      twins.scanned.snapshot(),
    ]);
    expect(snapIndexed.sequence).toBe(snapScanned.sequence);
    await twins.reopen();
    expect(twins.indexed.info().recoveredFromSnapshot).toBe(snapIndexed.sequence);
    expect(twins.scanned.info().recoveredFromSnapshot).toBe(snapScanned.sequence);
    expect(await checkTwins(twins)).toEqual(live);

    await runWorkload(twins, 'b');
    await runSagas(twins, 'b');
    const grown = await checkTwins(twins);
    for (const id of TRACKED) expect(grown[id].slice(0, live[id].length)).toEqual(live[id]);
    expect(grown.alice.length).toBeGreaterThan(live.alice.length);
    await twins.reopen();
    expect(twins.indexed.info().recoveredFromSnapshot).toBe(snapIndexed.sequence);
    expect(await checkTwins(twins)).toEqual(grown);

    // The indexed dir opened without the index (accountHistory: false) scans its log instead.
    twins.indexed = await reopenAt(twins.indexed, twins.dirs.indexed, twins.clock, {
      accountHistory: false,
    });
    expect(await checkTwins(twins)).toEqual(grown);
  });
});

describe('account history: saga events with several legs of one account', () => {
  // An entry per leg, in the event's order, as each transfer is an event of its own on one
  // shard: each with the counters after the whole event less what the later legs moved as one
  // shard lists them (a reserve its pending amount, a commit its posted amount, a release the
  // pending amount it frees). The index and the scan agree, ids included.
  it('gives one entry per leg of a reservation event, with the counters after it, indexed or scanned', async () => {
    const twins = await Twins.create();
    expect(await twins.submit([transfer('fund', 'bank', 'alice', 100n)])).toEqual(['ok']);
    const legs: ReservationLeg[] = [
      { side: 'debit', transfer: spec('x1', 'alice', 'remote-1', 10n) },
      { side: 'debit', transfer: spec('x2', 'alice', 'remote-2', 20n) },
      { side: 'credit', transfer: spec('x3', 'remote-3', 'alice', 5n) },
    ];
    expect(await twins.submit([reserve('s1', ...legs)])).toEqual(['ok']);
    expect(await twins.submit([commit('s1')])).toEqual(['ok']);
    expect(
      await twins.submit([
        reserve(
          's2',
          ...legs.map((leg) => ({
            ...leg,
            transfer: { ...leg.transfer, id: `${leg.transfer.id}b` },
          })),
        ),
      ]),
    ).toEqual(['ok']);
    expect(await twins.submit([release('s2')])).toEqual(['ok']);
    for (const engine of [twins.indexed, twins.scanned]) {
      const page = await engine.accountHistory('alice');
      expect(page.entries.map((entry) => [entry.eventType, entry.transferId])).toEqual([
        ['TransferCreated', 'fund'],
        ['FundsReserved', 'x1'],
        ['FundsReserved', 'x2'],
        ['FundsReserved', 'x3'],
        ['ReservationCommitted', 'x1'],
        ['ReservationCommitted', 'x2'],
        ['ReservationCommitted', 'x3'],
        ['FundsReserved', 'x1b'],
        ['FundsReserved', 'x2b'],
        ['FundsReserved', 'x3b'],
        ['ReservationReleased', 'x1b'],
        ['ReservationReleased', 'x2b'],
        ['ReservationReleased', 'x3b'],
      ]);
      // [debitsPosted, creditsPosted, debitsPending, creditsPending] after each entry.
      expect(page.entries.map(countersOfEntry)).toEqual([
        [0n, 100n, 0n, 0n],
        [0n, 100n, 10n, 0n],
        [0n, 100n, 30n, 0n],
        [0n, 100n, 30n, 5n],
        [10n, 100n, 0n, 0n],
        [30n, 100n, 0n, 0n],
        [30n, 105n, 0n, 0n],
        [30n, 105n, 10n, 0n],
        [30n, 105n, 30n, 0n],
        [30n, 105n, 30n, 5n],
        [30n, 105n, 20n, 5n],
        [30n, 105n, 0n, 5n],
        [30n, 105n, 0n, 0n],
      ]);
      // Pages of one entry: the cursor names a leg within a step, and nothing is skipped.
      const paged: HistoryPage['entries'][number][] = [];
      let after: { afterSequence: number; afterLeg?: number } = { afterSequence: 0 };
      for (;;) {
        const one = await engine.accountHistory('alice', { ...after, limit: 1 });
        paged.push(...one.entries);
        if (one.nextAfterSequence === null) break;
        after = {
          afterSequence: one.nextAfterSequence,
          ...(one.nextAfterLeg === null ? {} : { afterLeg: one.nextAfterLeg }),
        };
      }
      expect(paged).toEqual(page.entries);
    }
    await checkBalanceAsOf(twins, 'alice', (await twins.indexed.accountHistory('alice')).entries);
  });
});
