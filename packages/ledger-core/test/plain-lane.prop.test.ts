// Goal: ShardEngine.submitEncoded (the shard worker's path, with its plain-transfer lane, for
// time-ordered ids and for random ones) is indistinguishable from submit() on the decoded commands: same results, same state, same log
// bytes, same id index, before and after reopening. Method: two engines on real temp dirs with
// the same test clock, fed the same random batches (fast-check, seed 42), some pipelined so that
// lookups hit transfers staged by earlier, uncommitted batches.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  parseAccount,
  parseResolution,
  parseTransfer,
  ShardEngine,
  type Command,
  type CommandResult,
} from '../src/index.js';
import {
  decodeCommandBatch,
  decodeResultBatch,
  encodeCommandBatch,
} from '../src/storage/batch-codec.js';
import { diffStates } from '../src/domain/audit.js';
import { MS, tempDirs, TestClock } from './fixtures/engine-fixtures.js';

const dirs = tempDirs('plain-lane-');
afterAll(() => dirs.cleanup());

const ACCOUNTS = 7;
const TWO_53 = 2n ** 53n;

const accountOp = fc.record({
  kind: fc.constant('account' as const),
  account: fc.nat({ max: ACCOUNTS - 1 }),
  currency: fc.constantFrom('USD', 'USD', 'EUR'),
  flag: fc.constantFrom('none', 'none', 'none', 'debits', 'credits', 'history'),
});
const transferOp = fc.record({
  kind: fc.constant('transfer' as const),
  // 'next': a new time-ordered id (the lane's case); 'pool': a small pool, so ids collide with
  // earlier ones (exists, exists_with_different_fields); 'old': below every time-ordered id;
  // 'accent': a non-ASCII id, which turns the time-ordered shortcut off for good.
  // 'random': a random id below or above the others (as UUIDv4 ids are), new by the filter.
  idKind: fc.oneof(
    { weight: 400, arbitrary: fc.constant('next' as const) },
    { weight: 200, arbitrary: fc.constant('random' as const) },
    { weight: 40, arbitrary: fc.constantFrom('pool' as const, 'old' as const) },
    // Rare: it turns the lane off for the rest of the run.
    { weight: 1, arbitrary: fc.constant('accent' as const) },
  ),
  pool: fc.nat({ max: 5 }),
  random: fc.stringMatching(/^[0-9a-f]{12}$/),
  // Mostly accounts that exist; now and then one that doesn't.
  debit: fc.oneof(
    { weight: 12, arbitrary: fc.nat({ max: ACCOUNTS - 2 }) },
    { weight: 1, arbitrary: fc.constant(ACCOUNTS) },
  ),
  credit: fc.oneof(
    { weight: 12, arbitrary: fc.nat({ max: ACCOUNTS - 1 }) },
    { weight: 1, arbitrary: fc.constant(ACCOUNTS) },
  ),
  amount: fc.oneof(
    { weight: 200, arbitrary: fc.bigInt({ min: 1n, max: 500n }) },
    // Rare: an account past 2^53 leaves the lane (its counters turn bigint) for good.
    { weight: 1, arbitrary: fc.bigInt({ min: TWO_53 - 300n, max: TWO_53 + 300n }) },
  ),
  currency: fc.constantFrom('USD', 'USD', 'USD', 'USD', 'USD', 'USD', 'EUR'),
  pending: fc.constantFrom(false, false, false, false, false, true),
  // Long enough that the engines' real expiry timers never fire during a run (that would race
  // with the next batch); the test clock jumps past it instead, and the next batch expires it.
  timeoutMs: fc.constantFrom(0, 0, 60_000),
  metadata: fc.constantFrom(null, null, null, null, null, { order: 'o-1' }),
});
const resolveOp = fc.record({
  kind: fc.constantFrom('post' as const, 'void' as const),
  pool: fc.nat({ max: 5 }),
  random: fc.stringMatching(/^[0-9a-f]{12}$/),
  target: fc.nat({ max: 5 }),
});
const groupOp = fc.record({ kind: fc.constant('group' as const), a: transferOp, b: transferOp });
const commandOp = fc.oneof(
  { weight: 2, arbitrary: accountOp },
  { weight: 12, arbitrary: transferOp },
  { weight: 2, arbitrary: resolveOp },
  { weight: 1, arbitrary: groupOp },
);
const batchOp = fc.record({
  commands: fc.array(commandOp, { minLength: 0, maxLength: 60, size: 'medium' }),
  advanceMs: fc.constantFrom(0, 0, 1, 3, 61_000),
  pipelined: fc.boolean(),
});

type TransferOp = typeof transferOp extends fc.Arbitrary<infer T> ? T : never;

class Builder {
  private next = 0;
  private accented = 0;
  readonly ids = new Set<string>();

  transferId(op: TransferOp): string {
    if (op.idKind === 'next') return `t-${String((this.next += 1)).padStart(8, '0')}`;
    if (op.idKind === 'pool') return `p-${op.pool}`;
    if (op.idKind === 'random') return `r-${op.random}`;
    if (op.idKind === 'old') return `a-${op.pool}`;
    return `é-${(this.accented += 1)}`;
  }

  spec(op: TransferOp) {
    const id = this.transferId(op);
    this.ids.add(id);
    const parsed = parseTransfer({
      id,
      debitAccountId: `acct-${op.debit}`,
      creditAccountId: `acct-${op.credit}`,
      amount: op.amount,
      currency: op.currency,
      ...(op.pending ? { pending: true, timeoutMs: op.timeoutMs } : {}),
      ...(op.metadata === null ? {} : { metadata: op.metadata }),
    });
    if (!parsed.ok) throw new Error(`fixture transfer rejected: ${parsed.code}`);
    return parsed.value;
  }

  command(
    op: fc.Arbitrary<unknown> extends never
      ? never
      : ReturnType<typeof commandOp.generate>['value'],
  ): Command {
    switch (op.kind) {
      case 'account': {
        const flags = {
          none: {},
          debits: { debitsMustNotExceedCredits: true },
          credits: { creditsMustNotExceedDebits: true },
          history: { history: true },
        }[op.flag];
        const parsed = parseAccount({ id: `acct-${op.account}`, currency: op.currency, ...flags });
        if (!parsed.ok) throw new Error(`fixture account rejected: ${parsed.code}`);
        return { type: 'CreateAccount', account: parsed.value };
      }
      case 'transfer':
        return { type: 'CreateTransfer', transfer: this.spec(op) };
      case 'post':
      case 'void': {
        const parsed = parseResolution(
          { id: `r-${op.pool}-${(this.next += 1)}`, pendingId: `p-${op.target}` },
          op.kind === 'post',
        );
        if (!parsed.ok) throw new Error(`fixture resolution rejected: ${parsed.code}`);
        return op.kind === 'post'
          ? { type: 'PostPendingTransfer', resolution: parsed.value }
          : { type: 'VoidPendingTransfer', resolution: parsed.value };
      }
      case 'group':
        return { type: 'CreateTransferGroup', transfers: [this.spec(op.a), this.spec(op.b)] };
    }
  }
}

async function rawLog(engine: ShardEngine): Promise<string[]> {
  const records = await engine.readRecords(0, Number.MAX_SAFE_INTEGER);
  return records.map((record) => Buffer.from(record).toString('hex'));
}

describe('ShardEngine.submitEncoded', () => {
  it('matches submit() on the decoded commands: results, state, log bytes and id index', async () => {
    let laneUsed = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(batchOp, { minLength: 1, maxLength: 12 }), async (batches) => {
        const clock = new TestClock();
        const reference = await ShardEngine.open({
          dir: await dirs.make(),
          clock: clock.read,
          snapshotIntervalMs: 0,
        });
        const dirLane = await dirs.make();
        let lane = await ShardEngine.open({
          dir: dirLane,
          clock: clock.read,
          snapshotIntervalMs: 0,
        });
        const builder = new Builder();
        // Funding first, so that the lane has accepted transfers to apply.
        const setup: Command[] = [];
        for (let index = 0; index < ACCOUNTS - 1; index += 1) {
          const parsed = parseAccount({ id: `acct-${index}`, currency: 'USD' });
          if (parsed.ok) setup.push({ type: 'CreateAccount', account: parsed.value });
        }
        await reference.submit(setup);
        await lane.submit(setup);
        try {
          let waiting: [Promise<CommandResult[]>, Promise<Uint8Array>][] = [];
          for (const batch of batches) {
            clock.now += BigInt(batch.advanceMs) * MS;
            const bytes = encodeCommandBatch(batch.commands.map((op) => builder.command(op)));
            waiting.push([reference.submit(decodeCommandBatch(bytes)), lane.submitEncoded(bytes)]);
            if (batch.pipelined) continue;
            for (const [expected, actual] of waiting)
              expect(decodeResultBatch(await actual)).toEqual(await expected);
            waiting = [];
          }
          for (const [expected, actual] of waiting)
            expect(decodeResultBatch(await actual)).toEqual(await expected);
          laneUsed += lane.plainLaneTransfers;
          expect(diffStates(reference.liveState, lane.liveState)).toEqual([]);
          expect(lane.liveState.lastTimestamp).toBe(reference.liveState.lastTimestamp);
          expect(await rawLog(lane)).toEqual(await rawLog(reference));
          const ids = [...builder.ids];
          const expected = await reference.lookupTransfers(ids);
          expect(await lane.lookupTransfers(ids)).toEqual(expected);
          // The index on disk, not the staged runs: reopen and look again.
          await lane.close();
          lane = await ShardEngine.open({ dir: dirLane, clock: clock.read, snapshotIntervalMs: 0 });
          expect(await lane.lookupTransfers(ids)).toEqual(expected);
          expect((await lane.verify()).ok).toBe(true);
        } finally {
          await reference.close();
          await lane.close();
        }
      }),
      { seed: 42, numRuns: 60, endOnFailure: true },
    );
    // The property is about the lane: it must have run, on many transfers.
    expect(laneUsed).toBeGreaterThan(1_000);
  }, 120_000);
});
