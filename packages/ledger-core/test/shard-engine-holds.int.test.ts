// Goal: ShardEngine posts, voids and expires holds on disk: on submit, from its own timer and
// across a reopen, with an exact deadline. Method: real LMDB in mkdtemp dirs, a test clock.
import { describe, expect, it, vi } from 'vitest';
import { sleep } from '../src/testing.js';
import {
  account,
  countersOf,
  MS,
  post,
  statuses,
  TestClock,
  transfer,
  useEngines,
  voidPending,
} from './fixtures/engine-fixtures.js';

const { dirs, openEngine } = useEngines('shard-engine-holds-');

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

  it("updates a hold's record alike whether the hold was applied before the engine opened or since", async () => {
    // A hold applied since open has its record at hand; one from before is read from the index.
    const dir = await dirs.make();
    const clock = new TestClock();
    const held = (id: string, timeoutMs: number): ReturnType<typeof transfer> =>
      transfer(id, 'a', 'b', 10n, { pending: true, timeoutMs, metadata: { order: id } });
    const first = await openEngine(dir, { clock: clock.read });
    await first.submit([account('a'), account('b')]);
    await first.submit([held('old-post', 0), held('old-void', 0), held('old-expire', 1_000)]);
    await first.close();
    const engine = await openEngine(dir, { clock: clock.read });
    await engine.submit([held('new-post', 0), held('new-void', 0), held('new-expire', 1_000)]);
    const ids = ['old-post', 'old-void', 'old-expire', 'new-post', 'new-void', 'new-expire'];
    const before = await engine.lookupTransfers(ids);
    expect(
      await statuses(engine, [
        post('p-old', 'old-post', 4n),
        voidPending('v-old', 'old-void'),
        post('p-new', 'new-post', 4n),
        voidPending('v-new', 'new-void'),
      ]),
    ).toEqual(['ok', 'ok', 'ok', 'ok']);
    clock.advanceMs(2_000);
    await engine.submit([transfer('t1', 'a', 'b', 1n)]);
    const changes = [
      { state: 'posted', postedAmount: 4n },
      { state: 'voided' },
      { state: 'expired' },
    ];
    const expected = before.map((record, index) => ({ ...record, ...changes[index % 3] }));
    expect(await engine.lookupTransfers(ids)).toEqual(expected);
    await engine.close();
    const reopened = await openEngine(dir, { clock: clock.read });
    expect(await reopened.lookupTransfers(ids)).toEqual(expected);
    expect((await reopened.verify()).ok).toBe(true);
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
