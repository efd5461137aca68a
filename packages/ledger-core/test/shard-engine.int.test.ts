// Goal: ShardEngine keeps the engine contract on disk. Method: real LMDB in mkdtemp dirs, a test clock.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  isLedgerError,
  limits,
  ShardEngine,
  type Command,
  type ShardEngineOptions,
} from '../src/index.js';
import { AMOUNT_MAX } from '../src/limits.js';
import { decodeResultBatch, encodeCommandBatch } from '../src/storage/batch-codec.js';
import { shardFormatVersion } from '../src/storage/engine-recovery.js';
import { openShardDatabases } from '../src/storage/lmdb-env.js';
import { sleep } from '../src/testing.js';
import {
  account,
  countersOf,
  group,
  MS,
  post,
  spec,
  tempDirs,
  TestClock,
  transfer,
  voidPending,
} from './fixtures/engine-fixtures.js';

const dirs = tempDirs('shard-engine-');
const open: ShardEngine[] = [];

async function openEngine(
  dir: string,
  options: Partial<ShardEngineOptions> = {},
): Promise<ShardEngine> {
  const engine = await ShardEngine.open({ dir, snapshotIntervalMs: 0, ...options });
  open.push(engine);
  return engine;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((engine) => engine.close()));
  await dirs.cleanup();
});

async function statuses(engine: ShardEngine, commands: Command[]): Promise<string[]> {
  return (await engine.submit(commands)).map((result) => result.status);
}

async function expectLedgerError(call: () => Promise<unknown>, code: string): Promise<void> {
  const error = await call().then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(isLedgerError(error), `expected LedgerError ${code}, got ${String(error)}`).toBe(true);
  expect((error as { code: string }).code).toBe(code);
}

describe('ShardEngine results', () => {
  it('returns one result per command, in input order, with stable snake_case statuses', async () => {
    const engine = await openEngine(await dirs.make());
    const results = await engine.submit([
      account('alice'),
      account('bob'),
      account('wallet', { debitsMustNotExceedCredits: true }),
      {
        type: 'CreateAccount',
        account: { id: 'eur', currency: 'EUR', scale: 2, flags: 0, metadata: null },
      },
      transfer('t1', 'alice', 'bob', 10n),
      transfer('t2', 'alice', 'nobody', 10n),
      transfer('t3', 'alice', 'eur', 10n),
      transfer('t4', 'wallet', 'bob', 1n),
      transfer('t5', 'alice', 'alice', 1n),
      transfer('t1', 'alice', 'bob', 10n),
      transfer('t1', 'alice', 'bob', 11n),
      post('p1', 'missing'),
    ]);
    expect(results.map((result) => result.status)).toEqual([
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'account_not_found',
      'currency_mismatch',
      'insufficient_funds',
      'accounts_must_be_different',
      'exists',
      'exists_with_different_fields',
      'pending_not_found',
    ]);
    const sequences = results
      .filter((result) => result.status === 'ok')
      .map((result) => result.sequence);
    expect(sequences).toEqual([1, 2, 3, 4, 5]);
    for (const result of results)
      if (result.status !== 'ok') expect(result.sequence).toBeUndefined();
    const [alice, bob] = await engine.lookupAccounts(['alice', 'bob']);
    expect(alice?.debitsPosted).toBe(10n);
    expect(bob?.creditsPosted).toBe(10n);
    expect(bob?.balance).toBe(10n);
  });

  it('answers exists for identical resubmissions and exists_with_different_fields otherwise, across a reopen', async () => {
    const dir = await dirs.make();
    const first = await openEngine(dir);
    const history: Command[] = [
      account('a', { metadata: { owner: 'ann' } }),
      account('b'),
      transfer('t1', 'a', 'b', 100n, { metadata: { order: '42' } }),
      transfer('hold1', 'a', 'b', 50n, { pending: true }),
      transfer('hold2', 'a', 'b', 30n, { pending: true }),
      post('post1', 'hold1', 20n),
      voidPending('void1', 'hold2'),
    ];
    expect(await statuses(first, history)).toEqual(Array(history.length).fill('ok'));
    const before = await first.lookupAccounts(['a', 'b']);
    const lastSequence = first.info().lastSequence;
    await first.close();

    const engine = await openEngine(dir);
    expect(await statuses(engine, history)).toEqual(Array(history.length).fill('exists'));
    expect(
      await statuses(engine, [
        account('a', { metadata: { owner: 'bob' } }),
        account('b', { debitsMustNotExceedCredits: true }),
        transfer('t1', 'a', 'b', 101n, { metadata: { order: '42' } }),
        transfer('t1', 'a', 'b', 100n),
        transfer('hold1', 'a', 'b', 50n),
        post('post1', 'hold1', 21n),
        voidPending('post1', 'hold1'),
        post('void1', 'hold2'),
        post('post2', 'hold1'),
        voidPending('void2', 'hold2'),
      ]),
    ).toEqual([
      'exists_with_different_fields',
      'exists_with_different_fields',
      'exists_with_different_fields',
      'exists_with_different_fields',
      'exists_with_different_fields',
      'exists_with_different_fields',
      'exists_with_different_fields',
      'exists_with_different_fields',
      'pending_already_posted',
      'pending_already_voided',
    ]);
    expect(engine.info().lastSequence).toBe(lastSequence);
    expect(await engine.lookupAccounts(['a', 'b'])).toEqual(before);
    const [t1, hold1, post1] = await engine.lookupTransfers(['t1', 'hold1', 'post1']);
    expect(t1).toMatchObject({ amount: 100n, state: 'posted', metadata: { order: '42' } });
    expect(hold1).toMatchObject({ pending: true, state: 'posted', postedAmount: 20n });
    expect(post1).toMatchObject({ kind: 'post', pendingId: 'hold1', amount: 20n });
  });
});

describe('ShardEngine two-phase transfers', () => {
  it('posts part of a hold, voids another and releases the rest of the pending columns', async () => {
    const engine = await openEngine(await dirs.make());
    await engine.submit([
      account('a'),
      account('b'),
      transfer('h1', 'a', 'b', 70n, { pending: true }),
      transfer('h2', 'a', 'b', 5n, { pending: true }),
    ]);
    expect(countersOf((await engine.lookupAccounts(['a']))[0])).toEqual([0n, 0n, 75n, 0n]);
    expect(
      await statuses(engine, [
        post('p1', 'h1', 60n),
        voidPending('v1', 'h2'),
        post('p2', 'h1'),
        voidPending('v2', 'h2'),
      ]),
    ).toEqual(['ok', 'ok', 'pending_already_posted', 'pending_already_voided']);
    const [a, b] = await engine.lookupAccounts(['a', 'b']);
    expect(countersOf(a)).toEqual([60n, 0n, 0n, 0n]);
    expect(countersOf(b)).toEqual([0n, 60n, 0n, 0n]);
    expect(await statuses(engine, [post('p3', 'h3'), post('p4', 'p1')])).toEqual([
      'pending_not_found',
      'not_pending',
    ]);
  });

  it('expires a hold on the first submit after its deadline, and not before', async () => {
    const clock = new TestClock();
    const engine = await openEngine(await dirs.make(), { clock: clock.read });
    await engine.submit([
      account('a'),
      account('b'),
      transfer('h1', 'a', 'b', 40n, { pending: true, timeoutMs: 1_000 }),
    ]);
    clock.advanceMs(999);
    await engine.submit([transfer('t1', 'a', 'b', 1n)]);
    expect((await engine.lookupTransfers(['h1']))[0]?.state).toBe('pending');
    clock.advanceMs(2);
    await engine.submit([transfer('t2', 'a', 'b', 1n)]);
    const [hold] = await engine.lookupTransfers(['h1']);
    expect(hold?.state).toBe('expired');
    const [a, b] = await engine.lookupAccounts(['a', 'b']);
    expect(countersOf(a)).toEqual([2n, 0n, 0n, 0n]);
    expect(countersOf(b)).toEqual([0n, 2n, 0n, 0n]);
    expect(await statuses(engine, [post('p1', 'h1'), voidPending('v1', 'h1')])).toEqual([
      'pending_expired',
      'pending_expired',
    ]);
    const events = await engine.readEvents(0, 100);
    expect(events.map(({ event }) => event.type)).toEqual([
      'AccountCreated',
      'AccountCreated',
      'TransferCreated',
      'TransferCreated',
      'PendingTransferExpired',
      'TransferCreated',
    ]);
    expect((await engine.verify()).ok).toBe(true);
  });

  it('treats the deadline as exact: a post one nanosecond before it succeeds, a post at it is pending_expired', async () => {
    const clock = new TestClock();
    const engine = await openEngine(await dirs.make(), { clock: clock.read });
    const holds = [
      transfer('h1', 'a', 'b', 40n, { pending: true, timeoutMs: 10 }),
      transfer('h2', 'a', 'b', 2n, { pending: true, timeoutMs: 10 }),
    ];
    await engine.submit([account('a'), account('b'), ...holds]);
    const [h1, h2] = await engine.lookupTransfers(['h1', 'h2']);
    clock.now = (h1?.timestamp ?? 0n) + 10n * MS - 1n;
    expect(await statuses(engine, [post('p1', 'h1')])).toEqual(['ok']);
    clock.now = (h2?.timestamp ?? 0n) + 10n * MS;
    expect(await statuses(engine, [post('p2', 'h2')])).toEqual(['pending_expired']);
    expect((await engine.lookupTransfers(['h1', 'h2'])).map((record) => record?.state)).toEqual([
      'posted',
      'expired',
    ]);
    expect(countersOf((await engine.lookupAccounts(['a']))[0])).toEqual([40n, 0n, 0n, 0n]);
  });

  it('expires a hold from its own timer when no submit comes', async () => {
    const clock = new TestClock();
    const engine = await openEngine(await dirs.make(), { clock: clock.read });
    await engine.submit([
      account('a'),
      account('b'),
      transfer('h1', 'a', 'b', 40n, { pending: true, timeoutMs: 20 }),
    ]);
    const sequence = engine.info().lastSequence;
    clock.advanceMs(1_000);
    await vi.waitFor(() => expect(engine.info().lastSequence).toBe(sequence + 1), {
      timeout: 5_000,
      interval: 10,
    });
    expect((await engine.lookupTransfers(['h1']))[0]?.state).toBe('expired');
    expect(countersOf((await engine.lookupAccounts(['a']))[0])).toEqual([0n, 0n, 0n, 0n]);
  });

  it('re-arms its expiry timer when the timer fires before the deadline, as a timer clamped to 2^31-1 ms does', async () => {
    const clock = new TestClock();
    const engine = await openEngine(await dirs.make(), { clock: clock.read });
    await engine.submit([
      account('a'),
      account('b'),
      transfer('h1', 'a', 'b', 40n, { pending: true, timeoutMs: 20 }),
    ]);
    const sequence = engine.info().lastSequence;
    // The timer fires after ~21 ms of real time, but the engine's clock has not reached the deadline.
    await sleep(80);
    expect(engine.info().lastSequence).toBe(sequence);
    clock.advanceMs(1_000);
    await vi.waitFor(() => expect(engine.info().lastSequence).toBe(sequence + 1), {
      timeout: 5_000,
      interval: 10,
    });
    expect((await engine.lookupTransfers(['h1']))[0]?.state).toBe('expired');
  });

  it('expires a hold whose deadline passed while the engine was closed, on the next submit after reopening', async () => {
    const dir = await dirs.make();
    const clock = new TestClock();
    const first = await openEngine(dir, { clock: clock.read });
    await first.submit([
      account('a'),
      account('b'),
      transfer('h1', 'a', 'b', 40n, { pending: true, timeoutMs: 60_000 }),
    ]);
    await first.close();
    clock.advanceMs(120_000);
    const engine = await openEngine(dir, { clock: clock.read });
    expect(await statuses(engine, [post('p1', 'h1')])).toEqual(['pending_expired']);
    expect((await engine.lookupTransfers(['h1']))[0]?.state).toBe('expired');
    expect((await engine.verify()).ok).toBe(true);
  });
});

describe('ShardEngine atomic groups', () => {
  it('applies a group whole or not at all, with a reason per member', async () => {
    const engine = await openEngine(await dirs.make());
    await engine.submit([
      account('buyer', { debitsMustNotExceedCredits: true }),
      account('bank'),
      account('s1'),
      account('s2'),
      account('fee'),
    ]);
    await engine.submit([transfer('fund', 'bank', 'buyer', 100n)]);
    const sequence = engine.info().lastSequence;
    const [failed] = await engine.submit([
      group(
        spec('g1', 'buyer', 's1', 60n),
        spec('g2', 'buyer', 's2', 30n),
        spec('g3', 'buyer', 'fee', 11n),
      ),
    ]);
    expect(failed?.status).toBe('insufficient_funds');
    expect(failed?.statuses).toEqual([
      'linked_transfer_failed',
      'linked_transfer_failed',
      'insufficient_funds',
    ]);
    expect(engine.info().lastSequence).toBe(sequence);
    expect(await engine.lookupTransfers(['g1', 'g2', 'g3'])).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(countersOf((await engine.lookupAccounts(['buyer']))[0])).toEqual([0n, 100n, 0n, 0n]);

    const [applied] = await engine.submit([
      group(
        spec('g1', 'buyer', 's1', 60n),
        spec('g2', 'buyer', 's2', 30n),
        spec('g3', 'buyer', 'fee', 10n),
      ),
    ]);
    expect(applied?.status).toBe('ok');
    expect(applied?.sequence).toBe(sequence + 3);
    const balances = (await engine.lookupAccounts(['buyer', 's1', 's2', 'fee'])).map(
      (view) => view?.balance,
    );
    expect(balances).toEqual([0n, 60n, 30n, 10n]);
    const [again] = await engine.submit([
      group(
        spec('g1', 'buyer', 's1', 60n),
        spec('g2', 'buyer', 's2', 30n),
        spec('g3', 'buyer', 'fee', 10n),
      ),
    ]);
    expect(again?.status).toBe('exists');
  });
});

describe('ShardEngine reads', () => {
  it('pages account history so that the pages concatenate to the whole history in sequence order', async () => {
    const engine = await openEngine(await dirs.make());
    await engine.submit([account('a'), account('b'), account('c')]);
    const expected: string[] = [];
    for (let batch = 0; batch < 4; batch += 1) {
      const commands: Command[] = [];
      for (let index = 0; index < 6; index += 1) {
        const id = `t${batch}-${index}`;
        commands.push(index % 2 === 0 ? transfer(id, 'a', 'b', 3n) : transfer(id, 'c', 'a', 2n));
        expected.push(id);
      }
      await engine.submit(commands);
      await engine.submit([transfer(`other${batch}`, 'b', 'c', 1n)]);
    }
    const whole = await engine.accountHistory('a', { limit: 1_000 });
    expect(whole.nextAfterSequence).toBeNull();
    expect(whole.entries.map((entry) => entry.transferId)).toEqual(expected);
    const last = whole.entries[whole.entries.length - 1];
    expect(last).toMatchObject({
      debitsPosted: 36n,
      creditsPosted: 24n,
      debitsPending: 0n,
      creditsPending: 0n,
    });

    for (const limit of [4, 5]) {
      const pages = [];
      let after: number | undefined;
      for (;;) {
        const page = await engine.accountHistory(
          'a',
          after === undefined ? { limit } : { limit, afterSequence: after },
        );
        pages.push(page);
        if (page.nextAfterSequence === null) break;
        expect(page.entries).toHaveLength(limit);
        after = page.nextAfterSequence;
      }
      const concatenated = pages.flatMap((page) => page.entries);
      expect(concatenated).toEqual(whole.entries);
      expect(pages).toHaveLength(Math.ceil(expected.length / limit));
    }
    const sequences = whole.entries.map((entry) => entry.sequence);
    expect(sequences).toEqual([...sequences].sort((left, right) => left - right));
    expect(new Set(sequences).size).toBe(sequences.length);
    expect(await engine.accountHistory('nobody')).toEqual({ entries: [], nextAfterSequence: null });
  });

  it('gives the balance as of a past sequence or timestamp equal to the balance seen at that point', async () => {
    const clock = new TestClock();
    const engine = await openEngine(await dirs.make(), { clock: clock.read });
    await engine.submit([account('a'), account('b')]);
    const checkpoints: { sequence: number; timestamp: bigint; counters: unknown }[] = [];
    const steps: Command[][] = [
      [transfer('t1', 'a', 'b', 5n)],
      [transfer('h1', 'a', 'b', 7n, { pending: true }), transfer('t2', 'b', 'a', 1n)],
      [post('p1', 'h1', 3n)],
      [transfer('t3', 'b', 'a', 2n), transfer('t4', 'a', 'b', 9n)],
      [transfer('h2', 'b', 'a', 4n, { pending: true })],
      [voidPending('v1', 'h2')],
    ];
    for (const commands of steps) {
      clock.advanceMs(5);
      await engine.submit(commands);
      const info = engine.info();
      checkpoints.push({
        sequence: info.lastSequence,
        timestamp: info.lastTimestamp,
        counters: (await engine.lookupAccounts(['a', 'b'])).map(countersOf),
      });
    }
    for (const point of checkpoints) {
      const bySequence = await Promise.all(
        ['a', 'b'].map((id) => engine.balanceAsOf(id, { sequence: point.sequence })),
      );
      expect(bySequence.map(countersOf)).toEqual(point.counters);
      const byTimestamp = await Promise.all(
        ['a', 'b'].map((id) => engine.balanceAsOf(id, { timestamp: point.timestamp })),
      );
      expect(byTimestamp.map(countersOf)).toEqual(point.counters);
      // Just before the next step's clock tick the balance is still the same.
      const later = await Promise.all(
        ['a', 'b'].map((id) => engine.balanceAsOf(id, { timestamp: point.timestamp + 4n * MS })),
      );
      expect(later.map(countersOf)).toEqual(point.counters);
    }
    const view = await engine.balanceAsOf('a', { sequence: checkpoints[0]?.sequence ?? 0 });
    expect(view).toMatchObject({ balance: -5n, available: -5n });
    expect(await engine.balanceAsOf('a', { timestamp: 1n })).toBeUndefined();
  });

  it('answers history and balance-as-of exactly after the dir was once written with accountHistory off', async () => {
    // Postings made while the index is off are never indexed; the engine must not read the
    // holed index afterwards (it scans the log instead).
    const clock = new TestClock();
    const dir = await dirs.make();
    const first = await openEngine(dir, { clock: clock.read });
    await first.submit([account('h', { history: true }), account('x')]);
    await first.submit([transfer('t1', 'x', 'h', 5n)]);
    await first.close();
    clock.advanceMs(1);
    const off = await openEngine(dir, { clock: clock.read, accountHistory: false });
    await off.submit([transfer('t2', 'x', 'h', 7n)]);
    await off.close();
    clock.advanceMs(1);
    const on = await openEngine(dir, { clock: clock.read });
    await on.submit([transfer('t3', 'x', 'h', 11n)]);
    const page = await on.accountHistory('h');
    expect(page.entries.map((entry) => [entry.transferId, entry.creditsPosted])).toEqual([
      ['t1', 5n],
      ['t2', 12n],
      ['t3', 23n],
    ]);
    const atT2 = page.entries[1]?.sequence ?? 0;
    expect((await on.balanceAsOf('h', { sequence: atT2 }))?.creditsPosted).toBe(12n);
  });

  it('reads events with gapless sequence numbers, in pages or all at once', async () => {
    const engine = await openEngine(await dirs.make());
    await engine.submit([account('a'), account('b')]);
    for (let batch = 0; batch < 5; batch += 1) {
      await engine.submit(
        Array.from({ length: 4 }, (_, index) => transfer(`t${batch}-${index}`, 'a', 'b', 1n)),
      );
      await engine.submit([
        group(spec(`g${batch}-0`, 'b', 'a', 1n), spec(`g${batch}-1`, 'b', 'a', 1n)),
      ]);
    }
    const all = await engine.readEvents(0, 10_000);
    expect(all.map((item) => item.sequence)).toEqual(
      Array.from({ length: engine.info().lastSequence }, (_, index) => index + 1),
    );
    const paged = [];
    for (let after = 0; ;) {
      const page = await engine.readEvents(after, 7);
      if (page.length === 0) break;
      paged.push(...page);
      after = page[page.length - 1]?.sequence ?? after;
    }
    expect(paged).toEqual(all);
    expect((await engine.readEvents(5, 3)).map((item) => item.sequence)).toEqual([6, 7, 8]);
  });
});

describe("ShardEngine plain-transfer runs (the lane's part of the id index)", () => {
  it('answers exists and exists_with_different_fields for lane transfers of a batch written but not yet durable', async () => {
    const clock = new TestClock();
    const engine = await openEngine(await dirs.make(), { clock: clock.read });
    await engine.submit(Array.from({ length: 10 }, (_, index) => account(`acct-${index}`)));
    const id = (index: number): string => `t-${String(index * 2).padStart(8, '0')}`;
    const commands = Array.from({ length: 200 }, (_, index) =>
      transfer(id(index), `acct-${index % 10}`, `acct-${(index + 3) % 10}`, BigInt(1 + index)),
    );
    clock.advanceMs(1);
    // Not awaited: the second batch is decided while the first one's run is staged (sealed into
    // its encoded value when the first batch was written) and not yet durable.
    const pending = engine.submitEncoded(encodeCommandBatch(commands));
    const picks = [0, 1, 99, 100, 199].map(
      (index) => commands[index] as Command & { type: 'CreateTransfer' },
    );
    clock.advanceMs(1);
    const again = engine.submitEncoded(
      encodeCommandBatch([
        ...picks,
        {
          type: 'CreateTransfer',
          transfer: {
            ...(picks[2] as Command & { type: 'CreateTransfer' }).transfer,
            amount: 9_999n,
          },
        },
        transfer('t-00000003', 'acct-1', 'acct-2', 5n), // between two ids of the run: new
      ]),
    );
    expect(decodeResultBatch(await pending).every((result) => result.status === 'ok')).toBe(true);
    expect(decodeResultBatch(await again).map((result) => result.status)).toEqual([
      'exists',
      'exists',
      'exists',
      'exists',
      'exists',
      'exists_with_different_fields',
      'ok',
    ]);
    const found = await engine.lookupTransfers([id(0), id(199), 't-00000003']);
    expect(found.map((record) => record?.amount)).toEqual([1n, 200n, 5n]);
    expect((await engine.verify()).ok).toBe(true);
    await engine.close();
  });

  it('finds every lane transfer after a reopen, answers exists and exists_with_different_fields for them, and nothing in between', async () => {
    const clock = new TestClock();
    const dir = await dirs.make();
    const engine = await openEngine(dir, { clock: clock.read });
    const accounts = Array.from({ length: 50 }, (_, index) => account(`acct-${index}`));
    await engine.submit(accounts);
    const id = (index: number): string => `t-${String(index * 2).padStart(8, '0')}`; // even ids only
    const made: Command[] = [];
    for (let batch = 0; batch < 3; batch += 1) {
      const commands = Array.from({ length: 1500 }, (_, item) => {
        const index = batch * 1500 + item;
        return transfer(
          id(index),
          `acct-${index % 50}`,
          `acct-${(index * 7 + 1) % 50 === index % 50 ? (index + 1) % 50 : (index * 7 + 1) % 50}`,
          BigInt(1 + (index % 97)),
        );
      });
      made.push(...commands);
      clock.advanceMs(1);
      const results = decodeResultBatch(await engine.submitEncoded(encodeCommandBatch(commands)));
      expect(results.every((result) => result.status === 'ok')).toBe(true);
    }
    expect(engine.plainLaneTransfers).toBe(4500);
    const before = await engine.lookupTransfers(
      made.map((command) => (command.type === 'CreateTransfer' ? command.transfer.id : '')),
    );
    await engine.close();
    const reopened = await openEngine(dir, { clock: clock.read });
    const ids = made.map((command) =>
      command.type === 'CreateTransfer' ? command.transfer.id : '',
    );
    const after = await reopened.lookupTransfers(ids);
    expect(after).toEqual(before);
    expect(after.every((record) => record !== undefined && record.state === 'posted')).toBe(true);
    // Odd ids fall between entries of a run, below the first run, and above the last.
    const absent = ['t-00000001', 't-00001501', 't-00008999', 't-00009001', 't-0', 's-99999999'];
    expect(await reopened.lookupTransfers(absent)).toEqual(absent.map(() => undefined));
    // Resubmissions hit the runs on disk.
    const first = made[0] as Command & { type: 'CreateTransfer' };
    const last = made[made.length - 1] as Command & { type: 'CreateTransfer' };
    clock.advanceMs(1);
    const again = decodeResultBatch(
      await reopened.submitEncoded(
        encodeCommandBatch([
          first,
          last,
          {
            type: 'CreateTransfer',
            transfer: { ...first.transfer, amount: first.transfer.amount + 1n },
          },
          transfer('t-00000001', 'acct-1', 'acct-2', 5n),
        ]),
      ),
    );
    expect(again.map((result) => result.status)).toEqual([
      'exists',
      'exists',
      'exists_with_different_fields',
      'ok',
    ]);
    expect((await reopened.verify()).ok).toBe(true);
  });
});

describe('ShardEngine misuse and limits', () => {
  it('throws BATCH_TOO_LARGE for a batch over limits.batchSizeMax and writes nothing', async () => {
    const engine = await openEngine(await dirs.make());
    await engine.submit([account('a'), account('b')]);
    const commands = Array.from({ length: limits.batchSizeMax + 1 }, (_, index) =>
      transfer(`t${index}`, 'a', 'b', 1n),
    );
    await expectLedgerError(() => engine.submit(commands), 'BATCH_TOO_LARGE');
    expect(engine.info().lastSequence).toBe(2);
    expect(await engine.lookupTransfers(['t0'])).toEqual([undefined]);
    expect(countersOf((await engine.lookupAccounts(['a']))[0])).toEqual([0n, 0n, 0n, 0n]);
    const results = await engine.submit(commands.slice(0, limits.batchSizeMax));
    expect(results).toHaveLength(limits.batchSizeMax);
    expect(results.every((result) => result.status === 'ok')).toBe(true);
  });

  it('throws LEDGER_CLOSED from every call after close', async () => {
    const engine = await openEngine(await dirs.make());
    await engine.submit([account('a')]);
    await engine.close();
    await expectLedgerError(() => engine.submit([account('b')]), 'LEDGER_CLOSED');
    await expectLedgerError(() => engine.lookupAccounts(['a']), 'LEDGER_CLOSED');
    await expectLedgerError(() => engine.lookupTransfers(['x']), 'LEDGER_CLOSED');
    await expectLedgerError(() => engine.accountHistory('a'), 'LEDGER_CLOSED');
    await expectLedgerError(() => engine.balanceAsOf('a', { sequence: 1 }), 'LEDGER_CLOSED');
    await expectLedgerError(() => engine.readEvents(0, 10), 'LEDGER_CLOSED');
    await expectLedgerError(() => engine.verify(), 'LEDGER_CLOSED');
    await expectLedgerError(() => engine.snapshot(), 'LEDGER_CLOSED');
    await engine.close();
  });
});

describe('ShardEngine verification and durability modes', () => {
  it('verifies ok after a mixed workload, before and after a reopen', async () => {
    const dir = await dirs.make();
    const clock = new TestClock();
    const engine = await openEngine(dir, { clock: clock.read });
    await engine.submit([
      account('a'),
      account('b'),
      account('w', { debitsMustNotExceedCredits: true }),
      account('c', { creditsMustNotExceedDebits: true }),
    ]);
    for (let round = 0; round < 10; round += 1) {
      clock.advanceMs(3);
      await engine.submit([
        transfer(`t${round}`, 'a', 'w', 10n),
        transfer(`x${round}`, 'w', 'b', 15n),
        transfer(`c${round}`, 'c', 'a', 4n),
        transfer(`h${round}`, 'w', 'c', 3n, { pending: true, timeoutMs: round % 3 === 0 ? 5 : 0 }),
        round % 2 === 0
          ? post(`p${round}`, `h${round}`, 2n)
          : voidPending(`v${round}`, `h${round}`),
        group(
          spec(`g${round}a`, 'a', 'b', 1n),
          spec(`g${round}b`, 'w', 'b', round % 4 === 0 ? 1_000n : 1n),
        ),
      ]);
    }
    const report = await engine.verify();
    expect(report.violations).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.eventsReplayed).toBe(engine.info().lastSequence);
    const views = await engine.lookupAccounts(['a', 'b', 'w', 'c']);
    const sum = (pick: (view: NonNullable<(typeof views)[number]>) => bigint): bigint =>
      views.reduce((total, view) => total + (view ? pick(view) : 0n), 0n);
    expect(sum((view) => view.debitsPosted)).toBe(sum((view) => view.creditsPosted));
    expect(sum((view) => view.debitsPending)).toBe(sum((view) => view.creditsPending));
    await engine.close();
    const reopened = await openEngine(dir, { clock: clock.read });
    expect(await reopened.lookupAccounts(['a', 'b', 'w', 'c'])).toEqual(views);
    expect((await reopened.verify()).ok).toBe(true);
  });

  it('keeps amounts near 2^128-1 exact across a reopen and answers overflow instead of wrapping', async () => {
    const dir = await dirs.make();
    const first = await openEngine(dir);
    const big = AMOUNT_MAX - 5n;
    const wide = 1n << 64n;
    expect(
      await statuses(first, [
        account('x'),
        account('y'),
        account('z'),
        account('w'),
        transfer('max', 'x', 'y', big),
        transfer('five', 'x', 'y', 5n),
        transfer('one', 'x', 'y', 1n),
        transfer('hold', 'z', 'w', AMOUNT_MAX - 1n, { pending: true }),
        transfer('hold2', 'z', 'w', 2n, { pending: true }),
        transfer('top', 'z', 'w', 1n),
        transfer('mid', 'w', 'y', wide),
        transfer('wide', 'w', 'z', wide),
      ]),
    ).toEqual([
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'overflow',
      'ok',
      'overflow',
      'ok',
      'overflow',
      'ok',
    ]);
    await first.close();
    const engine = await openEngine(dir);
    const [x, y, z, w] = await engine.lookupAccounts(['x', 'y', 'z', 'w']);
    expect(countersOf(x)).toEqual([AMOUNT_MAX, 0n, 0n, 0n]);
    expect(countersOf(y)).toEqual([0n, AMOUNT_MAX, 0n, 0n]);
    expect(countersOf(z)).toEqual([1n, wide, AMOUNT_MAX - 1n, 0n]);
    expect(countersOf(w)).toEqual([wide, 1n, 0n, AMOUNT_MAX - 1n]);
    expect(x?.available).toBe(-AMOUNT_MAX);
    const [max, one, hold] = await engine.lookupTransfers(['max', 'one', 'hold']);
    expect(max?.amount).toBe(big);
    expect(one).toBeUndefined();
    expect(hold?.amount).toBe(AMOUNT_MAX - 1n);
    expect(
      await statuses(engine, [
        post('p', 'hold'),
        transfer('again', 'x', 'w', 1n),
        transfer('back', 'y', 'x', 1n),
      ]),
    ).toEqual(['ok', 'overflow', 'ok']);
    expect(countersOf((await engine.lookupAccounts(['z']))[0])).toEqual([AMOUNT_MAX, wide, 0n, 0n]);
    const history = await engine.accountHistory('y');
    expect(history.entries.map((entry) => entry.creditsPosted)).toEqual([
      big,
      AMOUNT_MAX,
      AMOUNT_MAX,
    ]);
    expect(history.entries.map((entry) => entry.debitsPosted)).toEqual([0n, 0n, 1n]);
    expect((await engine.verify()).ok).toBe(true);
  });

  it('works in relaxed durability mode and reopens to the same state', async () => {
    const dir = await dirs.make();
    const engine = await openEngine(dir, { durability: 'relaxed' });
    await engine.submit([account('a'), account('b')]);
    const pending = [];
    for (let batch = 0; batch < 5; batch += 1) {
      pending.push(
        engine.submit(
          Array.from({ length: 50 }, (_, index) =>
            transfer(`t${batch}-${index}`, 'a', 'b', BigInt(index + 1)),
          ),
        ),
      );
    }
    const results = await Promise.all(pending);
    expect(results.flat().every((result) => result.status === 'ok')).toBe(true);
    const before = await engine.lookupAccounts(['a', 'b']);
    expect(before[1]?.creditsPosted).toBe(5n * 1275n);
    await engine.close();
    const reopened = await openEngine(dir, { durability: 'relaxed' });
    expect(await reopened.lookupAccounts(['a', 'b'])).toEqual(before);
    expect(reopened.info().lastSequence).toBe(252);
    expect((await reopened.verify()).ok).toBe(true);
    await expectLedgerError(
      () => ShardEngine.open({ dir: `${dir}-x`, durability: 'lazy' as 'strict' }),
      'INVALID_ARGUMENT',
    );
  });
});

describe('shard format version', () => {
  /** Runs `change` on the dir's meta db while no engine has it open. */
  async function withMeta(
    dir: string,
    change: (meta: ReturnType<typeof openShardDatabases>['meta']) => Promise<unknown>,
  ): Promise<void> {
    const db = openShardDatabases(dir, 1024 ** 3);
    try {
      await change(db.meta);
      await db.env.flushed;
    } finally {
      await db.env.close();
    }
  }

  it('stamps a new dir, raises a dir written before the stamp, and refuses a newer format', async () => {
    const dir = await dirs.make();
    const first = await openEngine(dir);
    expect(
      await statuses(first, [account('a'), account('b'), transfer('t-1', 'a', 'b', 5n)]),
    ).toEqual(['ok', 'ok', 'ok']);
    await first.close();
    let stored: unknown;
    await withMeta(dir, async (meta) => (stored = meta.get('formatVersion')));
    expect(stored).toBe(shardFormatVersion);

    // A dir from before the stamp (format 1) opens, keeps its data and is raised.
    await withMeta(dir, (meta) => meta.remove('formatVersion'));
    const reopened = await openEngine(dir);
    expect(await statuses(reopened, [transfer('t-1', 'a', 'b', 5n)])).toEqual(['exists']);
    await reopened.close();
    await withMeta(dir, async (meta) => (stored = meta.get('formatVersion')));
    expect(stored).toBe(shardFormatVersion);

    await withMeta(dir, (meta) => meta.put('formatVersion', shardFormatVersion + 1));
    await expectLedgerError(() => openEngine(dir), 'NOT_A_LEDGER');
  });
});
