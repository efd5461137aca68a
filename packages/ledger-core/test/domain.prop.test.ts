// Invariants of the pure core under random command sequences: fast-check on MemoryLedger, seed 42.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  accountFlags,
  parseAccount,
  parseResolution,
  parseTransfer,
  type Command,
  type LedgerEvent,
  type TransferSpec,
} from '../src/index.js';
import { AMOUNT_MAX } from '../src/limits.js';
import { auditState, diffStates } from '../src/domain/audit.js';
import {
  CREDITS_PENDING,
  CREDITS_POSTED,
  DEBITS_PENDING,
  DEBITS_POSTED,
  readCounter,
  type CounterIndex,
} from '../src/domain/balance.js';
import { evolve } from '../src/domain/evolve.js';
import { initialState, type LedgerState } from '../src/domain/state.js';
import { type Decision } from '../src/domain/types.js';
import { MemoryIndex, MemoryLedger } from '../src/testing.js';

const SEED = 42;
const MS = 1_000_000n;
const TWO_53 = 2n ** 53n;

// ---- generators: abstract operations over small id pools, so that ids collide on purpose ----

const amountArb = fc.oneof(
  { weight: 6, arbitrary: fc.bigInt({ min: 1n, max: 1_000n }) },
  { weight: 2, arbitrary: fc.bigInt({ min: TWO_53 - 500n, max: TWO_53 + 500n }) },
  { weight: 1, arbitrary: fc.bigInt({ min: AMOUNT_MAX / 2n, max: AMOUNT_MAX }) },
);

const accountArb = fc.record({
  currency: fc.constantFrom('USD', 'USD', 'EUR'),
  flag: fc.constantFrom('none', 'none', 'debits', 'credits'),
});

const ACCOUNTS = 6;
/** Small id pools make ids collide: resubmissions, exists_with_different_fields, posts that hit. */
const ID_MAX = 24;
const transferArb = fc.record({
  id: fc.nat({ max: ID_MAX }),
  debit: fc.nat({ max: ACCOUNTS }),
  credit: fc.nat({ max: ACCOUNTS - 1 }),
  amount: amountArb,
  currency: fc.constantFrom('USD', 'USD', 'USD', 'EUR'),
  pending: fc.boolean(),
  timeoutMs: fc.constantFrom(0, 0, 1, 5, 50),
});
type TransferOp = typeof transferArb extends fc.Arbitrary<infer T> ? T : never;

const baseOps = [
  {
    weight: 8,
    arbitrary: fc.record({ kind: fc.constant('transfer' as const), transfer: transferArb }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('group' as const),
      transfers: fc.array(transferArb, { minLength: 1, maxLength: 3 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('post' as const),
      id: fc.nat({ max: 10 * ID_MAX }),
      pendingId: fc.nat({ max: ID_MAX }),
      amount: fc.option(fc.bigInt({ min: 1n, max: 1_000n }), { nil: undefined, freq: 2 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('void' as const),
      id: fc.nat({ max: 10 * ID_MAX }),
      pendingId: fc.nat({ max: ID_MAX }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('expire' as const), advanceMs: fc.nat({ max: 20 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('reserve' as const),
      saga: fc.nat({ max: 6 }),
      transfers: fc.array(transferArb, { minLength: 1, maxLength: 2 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('commit' as const), saga: fc.nat({ max: 6 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('release' as const), saga: fc.nat({ max: 6 }) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('resubmit' as const), pick: fc.nat() }) },
] as const;
const statusOp = {
  weight: 1,
  arbitrary: fc.record({
    kind: fc.constant('status' as const),
    change: fc.constantFrom('FreezeAccount', 'UnfreezeAccount', 'CloseAccount'),
    account: fc.nat({ max: ACCOUNTS - 1 }),
  }),
};
const opArb = fc.oneof(...baseOps);
/** The ops above plus account status changes (freeze, unfreeze, close). */
const opWithStatusArb = fc.oneof(...baseOps, statusOp);
type Op = typeof opWithStatusArb extends fc.Arbitrary<infer T> ? T : never;

const scenarioArb = fc.record({
  accounts: fc.array(accountArb, { minLength: ACCOUNTS, maxLength: ACCOUNTS }),
  ops: fc.array(opArb, { minLength: 1, maxLength: 60, size: 'max' }),
});
const statusScenarioArb = fc.record({
  accounts: fc.array(accountArb, { minLength: ACCOUNTS, maxLength: ACCOUNTS }),
  ops: fc.array(opWithStatusArb, { minLength: 1, maxLength: 60, size: 'max' }),
});
type Scenario = typeof statusScenarioArb extends fc.Arbitrary<infer T> ? T : never;
const COUNTERS: readonly CounterIndex[] = [
  DEBITS_POSTED,
  CREDITS_POSTED,
  DEBITS_PENDING,
  CREDITS_PENDING,
];

// ---- building commands ----

function specOf(op: TransferOp, asSagaLeg: boolean): TransferSpec {
  const parsed = parseTransfer({
    id: `t${op.id}`,
    debitAccountId: `a${op.debit}`,
    // debit may equal credit, or name an account that does not exist (index ACCOUNTS): on purpose.
    creditAccountId: `a${op.credit}`,
    amount: op.amount,
    currency: op.currency,
    pending: asSagaLeg ? op.pending && op.id % 7 === 0 : op.pending,
    timeoutMs: op.pending && !asSagaLeg ? op.timeoutMs : 0,
  });
  if (!parsed.ok) throw new Error(`generator made an invalid transfer: ${parsed.code}`);
  return parsed.value;
}

function resolution(
  id: number,
  pendingId: number,
  amount: bigint | undefined,
): ReturnType<typeof parseResolution> {
  return parseResolution(
    { id: `r${id}`, pendingId: `t${pendingId}`, amount },
    amount !== undefined,
  );
}

function commandOf(op: Exclude<Op, { kind: 'resubmit' | 'expire' }>): Command {
  switch (op.kind) {
    case 'transfer':
      return { type: 'CreateTransfer', transfer: specOf(op.transfer, false) };
    case 'group':
      return {
        type: 'CreateTransferGroup',
        transfers: op.transfers.map((each) => specOf(each, false)),
      };
    case 'post':
    case 'void': {
      const parsed = resolution(op.id, op.pendingId, op.kind === 'post' ? op.amount : undefined);
      if (!parsed.ok) throw new Error(parsed.code);
      return op.kind === 'post'
        ? { type: 'PostPendingTransfer', resolution: parsed.value }
        : { type: 'VoidPendingTransfer', resolution: parsed.value };
    }
    case 'reserve': {
      // Both sides of each transfer live on this shard, so debits must equal credits literally.
      const legs = op.transfers.flatMap((each) => {
        const transfer = specOf(each, true);
        return [
          { side: 'debit' as const, transfer },
          { side: 'credit' as const, transfer },
        ];
      });
      return { type: 'ReserveFunds', sagaId: `s${op.saga}`, participants: [0], legs };
    }
    case 'commit':
      return { type: 'CommitReservation', sagaId: `s${op.saga}` };
    case 'release':
      return { type: 'ReleaseReservation', sagaId: `s${op.saga}`, reason: 'property' };
    case 'status':
      return { type: op.change, accountId: `a${op.account}` };
    default:
      throw new Error('unreachable');
  }
}

// ---- invariants ----

function snapshotOf(state: LedgerState): string {
  return JSON.stringify(
    {
      accounts: [...state.accounts.values()].map((account) => [
        account.id,
        [0, 1, 2, 3].map((index) => readCounter(account.counters, index as 0 | 1 | 2 | 3)),
        account.flags,
      ]),
      pending: [...state.pending.keys()],
      reservations: [...state.reservations.keys()],
      sequence: state.lastSequence,
    },
    (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value),
  );
}

function checkInvariants(state: LedgerState): void {
  expect(auditState(state)).toEqual([]);
  const sums = new Map<string, bigint[]>();
  for (const account of state.accounts.values()) {
    const [debitsPosted, creditsPosted, debitsPending, creditsPending] = COUNTERS.map((index) =>
      readCounter(account.counters, index),
    ) as [bigint, bigint, bigint, bigint];
    for (const value of [debitsPosted, creditsPosted, debitsPending, creditsPending]) {
      expect(value >= 0n && value <= AMOUNT_MAX).toBe(true);
    }
    if ((account.flags & accountFlags.debitsMustNotExceedCredits) !== 0)
      expect(debitsPosted + debitsPending <= creditsPosted).toBe(true);
    if ((account.flags & accountFlags.creditsMustNotExceedDebits) !== 0)
      expect(creditsPosted + creditsPending <= debitsPosted).toBe(true);
    const sum = sums.get(account.currency) ?? [0n, 0n, 0n, 0n];
    sums.set(account.currency, [
      sum[0]! + debitsPosted,
      sum[1]! + creditsPosted,
      sum[2]! + debitsPending,
      sum[3]! + creditsPending,
    ]);
  }
  for (const [currency, [debitsPosted, creditsPosted, debitsPending, creditsPending]] of sums) {
    expect({ currency, posted: debitsPosted }).toEqual({ currency, posted: creditsPosted });
    expect({ currency, pending: debitsPending }).toEqual({ currency, pending: creditsPending });
  }
}

function checkLog(log: readonly LedgerEvent[]): void {
  const resolutions = new Map<string, number>();
  const created = new Set<string>();
  for (const event of log) {
    if (event.type === 'TransferCreated' && event.transfer.pending) created.add(event.transfer.id);
    if (
      event.type === 'PendingTransferPosted' ||
      event.type === 'PendingTransferVoided' ||
      event.type === 'PendingTransferExpired'
    ) {
      expect(created.has(event.pendingId)).toBe(true);
      resolutions.set(event.pendingId, (resolutions.get(event.pendingId) ?? 0) + 1);
    }
    if (event.type === 'FundsReserved') {
      const byId = new Map<string, TransferSpec>();
      for (const leg of event.legs) {
        const other = byId.get(leg.transfer.id);
        if (other !== undefined) expect(leg.transfer).toEqual(other);
        byId.set(leg.transfer.id, leg.transfer);
      }
    }
  }
  for (const [id, count] of resolutions) expect({ id, count }).toEqual({ id, count: 1 });
}

function replay(log: readonly LedgerEvent[]): { state: LedgerState; index: MemoryIndex } {
  const state = initialState();
  const index = new MemoryIndex();
  for (const event of log) {
    evolve(state, event);
    index.apply(event);
  }
  return { state, index };
}

function expectUnchangedResubmission(ledger: MemoryLedger, command: Command): void {
  const before = snapshotOf(ledger.state);
  const decision = ledger.execute(command);
  const released =
    command.type === 'ReserveFunds' && !decision.ok && decision.code === 'RESERVATION_RELEASED';
  if (!released) expect(decision).toMatchObject({ ok: true, exists: true, events: [] });
  expect(snapshotOf(ledger.state)).toBe(before);
}

/** Runs a scenario, checking the invariants after every command; returns the ledger. */
function runScenario(scenario: Scenario): {
  ledger: MemoryLedger;
  accepted: Command[];
  codes: Set<string>;
} {
  const ledger = new MemoryLedger();
  for (const [index, { currency, flag }] of scenario.accounts.entries()) {
    const parsed = parseAccount({
      id: `a${index}`,
      currency,
      debitsMustNotExceedCredits: flag === 'debits',
      creditsMustNotExceedDebits: flag === 'credits',
    });
    if (!parsed.ok) throw new Error(parsed.code);
    expect(ledger.execute({ type: 'CreateAccount', account: parsed.value }).ok).toBe(true);
  }
  const accepted: Command[] = [];
  const codes = new Set<string>();
  for (const op of scenario.ops) {
    if (op.kind === 'resubmit') {
      const command = accepted[op.pick % Math.max(accepted.length, 1)];
      if (command !== undefined) expectUnchangedResubmission(ledger, command);
      continue;
    }
    let command: Command;
    if (op.kind === 'expire') {
      ledger.advance(BigInt(op.advanceMs) * MS);
      command = { type: 'ExpirePendingTransfers' };
    } else command = commandOf(op);
    const length = ledger.log.length;
    const before = snapshotOf(ledger.state);
    const decision: Decision = ledger.execute(command);
    if (!decision.ok) codes.add(decision.code);
    if (!decision.ok || decision.exists) {
      expect(ledger.log.length).toBe(length);
      expect(snapshotOf(ledger.state)).toBe(before);
    } else if (
      command.type !== 'ExpirePendingTransfers' &&
      // A status change sent again after the opposite one is a new change, not a resubmission.
      op.kind !== 'status' &&
      decision.events.length > 0
    )
      accepted.push(command);
    checkInvariants(ledger.state);
  }
  return { ledger, accepted, codes };
}

/** Runs a scenario, replays its log and checks the replay equals the live state and index, and
 * that every accepted command sent again changes nothing; returns the log. */
function checkReplay(scenario: Scenario): readonly LedgerEvent[] {
  const { ledger, accepted } = runScenario(scenario);
  checkLog(ledger.log);
  const replayed = replay(ledger.log);
  expect(diffStates(ledger.state, replayed.state)).toEqual([]);
  expect(diffStates(replayed.state, ledger.state)).toEqual([]);
  expect([...replayed.index.transfers.entries()]).toEqual([...ledger.index.transfers.entries()]);
  expect([...replayed.index.sagas.entries()]).toEqual([...ledger.index.sagas.entries()]);
  for (const command of accepted) expectUnchangedResubmission(ledger, command);
  checkInvariants(ledger.state);
  return ledger.log;
}

describe('domain properties (fast-check, seed 42)', () => {
  it('keeps every invariant, replays exactly, ignores resubmissions and resolves holds once', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => void checkReplay(scenario)),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('does the same with accounts frozen, unfrozen and closed along the way', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(statusScenarioArb, (scenario) => {
        for (const event of checkReplay(scenario)) seen.add(event.type);
      }),
      { seed: SEED, numRuns: 300 },
    );
    expect([...seen]).toEqual(
      expect.arrayContaining(['AccountFrozen', 'AccountUnfrozen', 'AccountClosed']),
    );
  });

  it('produces the same log for the same commands and clock (determinism)', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const first = runScenario(scenario).ledger.log;
        const second = runScenario(scenario).ledger.log;
        expect(second).toEqual(first);
      }),
      { seed: SEED, numRuns: 50 },
    );
  });

  it('exercises rejections, holds, expiries and sagas often enough to mean something', () => {
    const seen = new Set<string>();
    const rejected = new Set<string>();
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const { ledger, codes } = runScenario(scenario);
        for (const event of ledger.log) seen.add(event.type);
        for (const code of codes) rejected.add(code);
      }),
      { seed: SEED, numRuns: 50 },
    );
    const expectedCodes = [
      'INSUFFICIENT_FUNDS',
      'EXCEEDS_DEBITS',
      'OVERFLOW',
      'PENDING_ALREADY_POSTED',
      'TRANSFER_IN_FLIGHT',
      'RESERVATION_RELEASED',
      'EXISTS_WITH_DIFFERENT_FIELDS',
    ];
    expect(expectedCodes.filter((code) => !rejected.has(code))).toEqual([]);
    expect([...seen].sort()).toEqual(
      [
        'AccountCreated',
        'FundsReserved',
        'PendingTransferExpired',
        'PendingTransferPosted',
        'PendingTransferVoided',
        'ReservationCommitted',
        'ReservationReleased',
        'TransferCreated',
      ].sort(),
    );
  });
});
