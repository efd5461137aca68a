// Accounts' exact counters live in the state's CounterRows by ordinal: evolve and restoreState
// put them there, a wide account's row reads Infinity, and the plain-transfer kernel (which reads
// only the rows) declines wide accounts, also after a restore from an older snapshot layout.
import { describe, expect, it } from 'vitest';
import { parseAccount, parseTransfer } from '../src/index.js';
import { applyPlainTransfer } from '../src/domain/plain-transfer.js';
import { auditState } from '../src/domain/audit.js';
import {
  COUNTER_ROWS_PER_CHUNK,
  DEBITS_POSTED,
  newCounters,
  readCounter,
} from '../src/domain/balance.js';
import { evolve } from '../src/domain/evolve.js';
import { initialState, type AccountState, type LedgerState } from '../src/domain/state.js';
import { captureState, restoreState } from '../src/storage/snapshot-store.js';

const TWO_53 = 2n ** 53n;

function stateWith(accountCount: number): LedgerState {
  const state = initialState();
  for (let index = 0; index < accountCount; index += 1) {
    const parsed = parseAccount({ id: `acct-${index}`, currency: 'USD' });
    if (!parsed.ok) throw new Error(parsed.code);
    evolve(state, {
      type: 'AccountCreated',
      timestamp: state.lastTimestamp + 1n,
      account: parsed.value,
    });
  }
  return state;
}

function post(state: LedgerState, id: string, debit: number, credit: number, amount: bigint): void {
  const parsed = parseTransfer({
    id,
    debitAccountId: `acct-${debit}`,
    creditAccountId: `acct-${credit}`,
    amount,
    currency: 'USD',
  });
  if (!parsed.ok) throw new Error(parsed.code);
  evolve(state, {
    type: 'TransferCreated',
    timestamp: state.lastTimestamp + 1n,
    transfer: parsed.value,
  });
}

function account(state: LedgerState, index: number): AccountState {
  const found = state.accounts.get(`acct-${index}`);
  if (found === undefined) throw new Error('no such account');
  return found;
}

describe('CounterRows', () => {
  it('holds every account created by evolve at its ordinal, across chunks', () => {
    const state = stateWith(COUNTER_ROWS_PER_CHUNK + 3);
    expect(state.counterRows.chunks.length).toBe(2);
    for (const created of state.accounts.values())
      expect(state.counterRows.holds(created.ordinal, created.counters)).toBe(true);
    post(state, 't-1', 1, COUNTER_ROWS_PER_CHUNK + 2, 7n);
    expect(
      applyPlainTransfer(state, 'acct-1', `acct-${COUNTER_ROWS_PER_CHUNK + 2}`, 'USD', 5, 0),
    ).toBe(true);
    expect(readCounter(account(state, 1).counters, DEBITS_POSTED)).toBe(12n);
    expect(readCounter(account(state, COUNTER_ROWS_PER_CHUNK + 2).counters, 1)).toBe(12n);
    expect(auditState(state)).toEqual([]);
  });

  it('marks a wide account with Infinity, so the kernel declines it and changes nothing', () => {
    const state = stateWith(3);
    post(state, 't-1', 0, 1, TWO_53 - 1n);
    expect(account(state, 0).counters.wide).toBeNull();
    post(state, 't-2', 0, 2, 2n);
    const wide = account(state, 0).counters;
    expect(wide.wide).not.toBeNull();
    expect(Array.from(wide.values.subarray(wide.at, wide.at + 4))).toEqual([
      Infinity,
      Infinity,
      Infinity,
      Infinity,
    ]);
    expect(readCounter(wide, DEBITS_POSTED)).toBe(TWO_53 + 1n);
    const before = captureState(state);
    expect(applyPlainTransfer(state, 'acct-0', 'acct-2', 'USD', 1, 0)).toBe(false);
    expect(applyPlainTransfer(state, 'acct-2', 'acct-0', 'USD', 1, 0)).toBe(false);
    expect(captureState(state)).toEqual(before);
    expect(auditState(state)).toEqual([]);
  });

  it('flags an account whose counters are not its row (audit)', () => {
    const state = stateWith(2);
    const stray = { ...account(state, 1), counters: newCounters() };
    state.accounts.set('acct-1', stray);
    expect(auditState(state).map((violation) => violation.rule)).toContain('counter_row');
  });
});

describe('snapshots and CounterRows', () => {
  it('capture plain arrays (the payload layout) and restore into rows with the same values', () => {
    const state = stateWith(4);
    post(state, 't-1', 0, 1, 10n);
    post(state, 't-2', 2, 3, TWO_53 + 5n);
    const payload = captureState(state);
    for (const captured of payload.accounts)
      expect(Array.isArray(captured.counters.small)).toBe(true);
    const restored = restoreState(payload);
    expect(auditState(restored)).toEqual([]);
    for (const index of [0, 1, 2, 3]) {
      for (const counter of [0, 1, 2, 3] as const) {
        expect(readCounter(account(restored, index).counters, counter)).toBe(
          readCounter(account(state, index).counters, counter),
        );
      }
    }
    expect(applyPlainTransfer(restored, 'acct-0', 'acct-1', 'USD', 1, 0)).toBe(true);
    expect(applyPlainTransfer(restored, 'acct-2', 'acct-1', 'USD', 1, 0)).toBe(false);
    // The restored state has its own rows: the original is unchanged.
    expect(readCounter(account(state, 0).counters, DEBITS_POSTED)).toBe(10n);
  });

  it('restores a wide account from the older layout (stale finite small values) as wide', () => {
    const state = stateWith(2);
    post(state, 't-1', 0, 1, TWO_53 + 5n);
    const payload = captureState(state);
    // Snapshots written before CounterRows kept the small values a widened account had.
    const old = {
      ...payload,
      accounts: payload.accounts.map((entry) =>
        entry.id === 'acct-0'
          ? { ...entry, counters: { ...entry.counters, small: [1, 0, 0, 0] } }
          : entry,
      ),
    };
    const restored = restoreState(old);
    const restoredCounters = account(restored, 0).counters;
    expect(
      Array.from(restoredCounters.values.subarray(restoredCounters.at, restoredCounters.at + 4)),
    ).toEqual([Infinity, Infinity, Infinity, Infinity]);
    expect(readCounter(account(restored, 0).counters, DEBITS_POSTED)).toBe(TWO_53 + 5n);
    expect(applyPlainTransfer(restored, 'acct-0', 'acct-1', 'USD', 1, 0)).toBe(false);
    expect(auditState(restored)).toEqual([]);
  });
});
