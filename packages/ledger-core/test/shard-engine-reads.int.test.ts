// Goal: ShardEngine's reads (history pages, balance as of, events) and its lookups of the plain
// lane's transfers, before and after a reopen. Method: real LMDB in mkdtemp dirs, a test clock.
import { describe, expect, it } from 'vitest';
import { type Command } from '../src/index.js';
import { decodeResultBatch, encodeCommandBatch } from '../src/storage/batch-codec.js';
import {
  account,
  countersOf,
  group,
  MS,
  post,
  spec,
  TestClock,
  transfer,
  useEngines,
  voidPending,
} from './fixtures/engine-fixtures.js';

const { dirs, openEngine } = useEngines('shard-engine-reads-');

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
    expect(await engine.accountHistory('nobody')).toEqual({
      entries: [],
      nextAfterSequence: null,
      nextAfterLeg: null,
    });
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
