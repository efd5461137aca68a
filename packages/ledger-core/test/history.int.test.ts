// Goal: history and balance-as-of answer the same from the on-disk history index as from a log scan. Method: twin ShardEngines on real temp dirs fed one command stream, tracked accounts indexed in one and not in the other, compared page by page with checkpoints taken after each call, again after reopen and after snapshot + reopen.
import { afterEach, describe, expect, it } from 'vitest';
import {
  ShardEngine,
  type AccountView,
  type Command,
  type HistoryEntry,
  type HistoryPage,
  type ReservationLeg,
  type ShardEngineOptions,
} from '../src/index.js';
import {
  account,
  countersOf,
  group,
  post,
  spec,
  tempDirs,
  TestClock,
  transfer,
  voidPending,
} from './fixtures/engine-fixtures.js';

const dirs = tempDirs('history-');
const opened: ShardEngine[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((engine) => engine.close()));
  await dirs.cleanup();
});

/** Accounts whose history is compared; `bank` and `other` are never indexed in either twin. */
const TRACKED = ['alice', 'bob', 'whale'] as const;
type Tracked = (typeof TRACKED)[number];
const WIDE = 2n ** 60n;
/** More than any limited account ever holds (they receive up to about 2^61). */
const TOO_MUCH = 2n ** 100n;
const HOUR_MS = 3_600_000;
const PAGE_LIMITS = [1, 2, 3, 7, 1_000] as const;

type Counters = [bigint, bigint, bigint, bigint];
const ZERO: Counters = [0n, 0n, 0n, 0n];

/** What one account looked like right after one submit call returned. */
interface Checkpoint {
  readonly sequence: number;
  /** A time after every event of the call and before any event of the next one. */
  readonly timestamp: bigint;
  readonly counters: Readonly<Record<Tracked, Counters>>;
}

/** Two engines fed the same commands at the same test-clock times: in `indexed` the tracked
 * accounts carry the history flag, in `scanned` they don't, so their history comes from the log. */
class Twins {
  readonly checkpoints: Checkpoint[] = [];
  readonly clock: TestClock;
  readonly dirs: { indexed: string; scanned: string };
  indexed: ShardEngine;
  scanned: ShardEngine;
  private constructor(options: {
    clock: TestClock;
    dirs: { indexed: string; scanned: string };
    indexed: ShardEngine;
    scanned: ShardEngine;
  }) {
    this.clock = options.clock;
    this.dirs = options.dirs;
    this.indexed = options.indexed;
    this.scanned = options.scanned;
  }

  static async create(): Promise<Twins> {
    const clock = new TestClock();
    const made = { indexed: await dirs.make(), scanned: await dirs.make() };
    const twins = new Twins({
      clock,
      dirs: made,
      indexed: await openAt(made.indexed, clock),
      scanned: await openAt(made.scanned, clock),
    });
    const limited = (id: string): boolean => id === 'alice' || id === 'bob';
    const accounts = ['bank', 'other', ...TRACKED];
    const tracked = new Set<string>(TRACKED);
    const statuses = await twins.submit(
      accounts.map((id) =>
        account(id, { history: tracked.has(id), debitsMustNotExceedCredits: limited(id) }),
      ),
      accounts.map((id) => account(id, { debitsMustNotExceedCredits: limited(id) })),
    );
    expect(statuses).toEqual(accounts.map(() => 'ok'));
    expect((await twins.indexed.lookupAccounts([...TRACKED])).map((view) => view?.history)).toEqual(
      [true, true, true],
    );
    expect((await twins.scanned.lookupAccounts([...TRACKED])).map((view) => view?.history)).toEqual(
      [false, false, false],
    );
    return twins;
  }

  /** Submits to both (the scanned twin gets `scannedCommands` when given), checks both gave the
   * same results, advances the clock, and records a checkpoint from lookupAccounts. */
  async submit(commands: Command[], scannedCommands: Command[] = commands): Promise<string[]> {
    this.clock.advanceMs(5);
    const [left, right] = await Promise.all([
      this.indexed.submit(commands),
      this.scanned.submit(scannedCommands),
    ]);
    expect(left).toEqual(right);
    const views = await this.indexed.lookupAccounts([...TRACKED]);
    const twinViews = await this.scanned.lookupAccounts([...TRACKED]);
    const counters = {} as Record<Tracked, Counters>;
    TRACKED.forEach((id, index) => {
      const view = views[index];
      const twin = twinViews[index];
      if (view !== undefined) {
        expect(countersOf(twin)).toEqual(countersOf(view));
        counters[id] = countersOf(view) as Counters;
      } else {
        counters[id] = ZERO;
      }
    });
    expect(this.indexed.info().lastSequence).toBe(this.scanned.info().lastSequence);
    this.checkpoints.push({
      sequence: this.indexed.info().lastSequence,
      timestamp: this.clock.now + 1_000_000n,
      counters,
    });
    return left.map((result) => result.status);
  }

  async reopen(): Promise<void> {
    this.indexed = await reopenAt(this.indexed, this.dirs.indexed, this.clock);
    this.scanned = await reopenAt(this.scanned, this.dirs.scanned, this.clock);
  }
}

async function openAt(
  dir: string,
  clock: TestClock,
  options: Partial<ShardEngineOptions> = {},
): Promise<ShardEngine> {
  const engine = await ShardEngine.open({
    dir,
    clock: clock.read,
    snapshotIntervalMs: 0,
    ...options,
  });
  opened.push(engine);
  return engine;
}

async function reopenAt(
  engine: ShardEngine,
  dir: string,
  clock: TestClock,
  options: Partial<ShardEngineOptions> = {},
): Promise<ShardEngine> {
  await engine.close();
  opened.splice(opened.indexOf(engine), 1);
  return openAt(dir, clock, options);
}

function countersOfEntry(entry: HistoryEntry): Counters {
  return [entry.debitsPosted, entry.creditsPosted, entry.debitsPending, entry.creditsPending];
}

/** Every page of an account's history with page size `limit`, following the cursors. */
async function pagesOf(
  engine: ShardEngine,
  accountId: string,
  limit: number,
): Promise<HistoryPage[]> {
  const pages: HistoryPage[] = [];
  let after: number | undefined;
  for (let guard = 0; guard < 10_000; guard += 1) {
    const page = await engine.accountHistory(
      accountId,
      after === undefined ? { limit } : { limit, afterSequence: after },
    );
    pages.push(page);
    if (page.nextAfterSequence === null) return pages;
    after = page.nextAfterSequence;
  }
  throw new Error(`history of ${accountId} does not end`);
}

/** The whole history of each tracked account, checked identical between the twins and coherent
 * with the checkpoints and with balanceAsOf; returned so later phases can compare to it. */
async function checkTwins(twins: Twins): Promise<Record<Tracked, HistoryEntry[]>> {
  const result = {} as Record<Tracked, HistoryEntry[]>;
  for (const id of TRACKED) {
    let whole: HistoryEntry[] | undefined;
    for (const limit of PAGE_LIMITS) {
      const indexedPages = await pagesOf(twins.indexed, id, limit);
      const scannedPages = await pagesOf(twins.scanned, id, limit);
      expect(indexedPages, `${id} pages of ${limit}`).toEqual(scannedPages);
      for (const [index, page] of indexedPages.entries()) {
        const last = index === indexedPages.length - 1;
        if (!last) {
          expect(page.entries).toHaveLength(limit);
          expect(page.nextAfterSequence).toBe(page.entries[limit - 1]?.sequence);
        } else {
          expect(page.nextAfterSequence).toBeNull();
          expect(page.entries.length).toBeLessThanOrEqual(limit);
        }
      }
      const concatenated = indexedPages.flatMap((page) => page.entries);
      if (whole === undefined) whole = concatenated;
      else expect(concatenated, `${id} pages of ${limit} concatenate to the whole`).toEqual(whole);
    }
    const entries = whole as HistoryEntry[];
    const sequences = entries.map((entry) => entry.sequence);
    for (let index = 1; index < sequences.length; index += 1)
      expect(sequences[index]).toBeGreaterThan(sequences[index - 1] as number);
    const timestamps = entries.map((entry) => entry.timestamp);
    for (let index = 1; index < timestamps.length; index += 1)
      expect(timestamps[index]).toBeGreaterThan(timestamps[index - 1] as bigint);

    // Counters after each posting: after every call, the latest entry holds the live counters.
    for (const checkpoint of twins.checkpoints) {
      const latest = entries.filter((entry) => entry.sequence <= checkpoint.sequence).at(-1);
      expect(
        latest === undefined ? ZERO : countersOfEntry(latest),
        `${id} at sequence ${checkpoint.sequence}`,
      ).toEqual(checkpoint.counters[id]);
    }
    const [live] = await twins.indexed.lookupAccounts([id]);
    expect(countersOf(live)).toEqual(
      entries.length === 0 ? ZERO : countersOfEntry(entries.at(-1) as HistoryEntry),
    );
    await checkBalanceAsOf(twins, id, entries);
    result[id] = entries;
  }
  return result;
}

/** balanceAsOf, by sequence and by timestamp, agrees with the history and the checkpoints. */
async function checkBalanceAsOf(
  twins: Twins,
  id: Tracked,
  entries: readonly HistoryEntry[],
): Promise<void> {
  const both = async (at: {
    sequence?: number;
    timestamp?: bigint;
  }): Promise<AccountView | undefined> => {
    const left = await twins.indexed.balanceAsOf(id, at);
    const right = await twins.scanned.balanceAsOf(id, at);
    expect(
      countersOf(left),
      `${id} balanceAsOf ${String(at.sequence)} ${String(at.timestamp)}`,
    ).toEqual(countersOf(right));
    return left;
  };
  let previous: Counters = ZERO;
  for (const entry of entries) {
    expect(
      countersOf(await both({ sequence: entry.sequence })),
      `${id} as of its posting ${entry.sequence}`,
    ).toEqual(countersOfEntry(entry));
    expect(
      countersOf(await both({ sequence: entry.sequence - 1 })),
      `${id} just before ${entry.sequence}`,
    ).toEqual(previous);
    expect(
      countersOf(await both({ timestamp: entry.timestamp })),
      `${id} as of time ${entry.timestamp}`,
    ).toEqual(countersOfEntry(entry));
    previous = countersOfEntry(entry);
  }
  for (const checkpoint of twins.checkpoints) {
    const bySequence = await both({ sequence: checkpoint.sequence });
    const byTime = await both({ timestamp: checkpoint.timestamp });
    expect(countersOf(bySequence)).toEqual(checkpoint.counters[id]);
    expect(countersOf(byTime)).toEqual(checkpoint.counters[id]);
    const view = bySequence as AccountView;
    expect(view.balance).toBe(view.creditsPosted - view.debitsPosted);
    expect(view.available).toBe(view.creditsPosted - view.debitsPosted - view.debitsPending);
  }
  // Before the account existed there is nothing; the first checkpoint is the account's creation.
  const created = twins.checkpoints[0] as Checkpoint;
  expect(
    await twins.indexed.balanceAsOf(id, { timestamp: created.timestamp - 10_000_000n }),
  ).toBeUndefined();
  expect(
    await twins.scanned.balanceAsOf(id, { timestamp: created.timestamp - 10_000_000n }),
  ).toBeUndefined();
}

const reserve = (sagaId: string, ...legs: ReservationLeg[]): Command => ({
  type: 'ReserveFunds',
  sagaId,
  participants: [0, 1],
  legs,
});
const commit = (sagaId: string): Command => ({ type: 'CommitReservation', sagaId });
const release = (sagaId: string): Command => ({
  type: 'ReleaseReservation',
  sagaId,
  reason: 'test',
});

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
  // One entry per (sequence, account) either way. Which leg's transfer id that entry names is
  // not settled: the index keeps the last leg's, the scan the first leg's (reported; the test
  // pins only what both must agree on).
  it('gives one entry per reservation event with the counters after the whole event, indexed or scanned', async () => {
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
    const withoutIds = (page: HistoryPage): unknown[] =>
      page.entries.map(({ transferId: _transferId, ...rest }) => rest);
    for (const engine of [twins.indexed, twins.scanned]) {
      const page = await engine.accountHistory('alice');
      expect(page.entries.map((entry) => entry.eventType)).toEqual([
        'TransferCreated',
        'FundsReserved',
        'ReservationCommitted',
        'FundsReserved',
        'ReservationReleased',
      ]);
      expect(page.entries.map(countersOfEntry)).toEqual([
        [0n, 100n, 0n, 0n],
        [0n, 100n, 30n, 5n],
        [30n, 105n, 0n, 0n],
        [30n, 105n, 30n, 5n],
        [30n, 105n, 0n, 0n],
      ]);
      expect(['x1', 'x2', 'x3']).toContain(page.entries[1]?.transferId);
      expect(['x1b', 'x2b', 'x3b']).toContain(page.entries[3]?.transferId);
    }
    expect(withoutIds(await twins.indexed.accountHistory('alice'))).toEqual(
      withoutIds(await twins.scanned.accountHistory('alice')),
    );
    await checkBalanceAsOf(twins, 'alice', (await twins.indexed.accountHistory('alice')).entries);
  });
});
