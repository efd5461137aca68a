// Invariants of the pure core under random command sequences: fast-check on MemoryLedger, seed 42.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  accountFlags,
  parseAccount,
  type Command,
  type LedgerEvent,
  type TransferSpec,
} from '../src/index.js';
import { AMOUNT_MAX } from '../src/limits.js';
import { auditState, diffStates } from '../src/domain/audit.js';
import { readCounter } from '../src/domain/balance.js';
import { evolve } from '../src/domain/evolve.js';
import { initialState, type LedgerState } from '../src/domain/state.js';
import { type Decision } from '../src/domain/types.js';
import { MemoryIndex, MemoryLedger } from '../src/testing.js';
import {
  commandOf,
  COUNTERS,
  scenarioArb,
  statusScenarioArb,
  type Scenario,
} from './fixtures/domain-scenarios.js';
import { MS } from './fixtures/engine-fixtures.js';

const SEED = 42;

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
