// Invariants of one shard's state, checked after every batch (cheap form) and after replay or
// recovery (full form). Returns violations as data; callers decide whether to assert or report.

import { AMOUNT_MAX } from '../limits.js';
import { addCounter, newCounters, readCounter, type Counters } from './balance.js';
import type { LedgerState } from './state.js';
import { accountFlags } from './types.js';

export interface Violation {
  readonly rule: string;
  readonly detail: string;
}

function read(counters: Counters, index: 0 | 1 | 2 | 3): bigint {
  return readCounter(counters, index);
}

/** The double-entry balance per currency, from the running totals: O(currencies). */
export function checkBalanceTotals(state: LedgerState): Violation[] {
  const violations: Violation[] = [];
  for (const [currency, totals] of state.totals) {
    const posted =
      read(totals.accounts, 0) -
      read(totals.saga, 0) -
      (read(totals.accounts, 1) - read(totals.saga, 1));
    if (posted !== 0n) {
      violations.push({
        rule: 'debits_equal_credits',
        detail: `${currency}: posted debits - credits (net of sagas) = ${posted}`,
      });
    }
    const pending =
      read(totals.accounts, 2) -
      read(totals.saga, 2) -
      (read(totals.accounts, 3) - read(totals.saga, 3));
    if (pending !== 0n) {
      violations.push({
        rule: 'pending_debits_equal_pending_credits',
        detail: `${currency}: ${pending}`,
      });
    }
  }
  return violations;
}

/** A check that walks every account, a step at a time: it yields after every accountsPerStep
 * accounts (verify() gives the thread to writes there) and returns its violations. */
export type AuditSteps = Generator<void, Violation[], void>;

/** Accounts checked between two yields of AuditSteps. */
const accountsPerStep = 4_096;

/** Runs `steps` to the end at once. */
function allSteps(steps: AuditSteps): Violation[] {
  for (;;) {
    const next = steps.next();
    if (next.done === true) return next.value;
  }
}

/** Every invariant, recomputed from the accounts, holds and reservations: O(state). */
export function auditState(state: LedgerState): Violation[] {
  return allSteps(auditStateSteps(state));
}

/** auditState, a step at a time. */
export function* auditStateSteps(state: LedgerState): AuditSteps {
  const violations = checkBalanceTotals(state);
  const sums = yield* auditAccounts(state, violations);
  auditTotals(state, sums, violations);
  return violations;
}

/** Checks each account's counters and flags; returns the sum of the counters per currency. */
function* auditAccounts(
  state: LedgerState,
  violations: Violation[],
): Generator<void, Map<string, Counters>, void> {
  const sums = new Map<string, Counters>();
  let checked = 0;
  for (const account of state.accounts.values()) {
    if (++checked % accountsPerStep === 0) yield;
    let sum = sums.get(account.currency);
    if (sum === undefined) sums.set(account.currency, (sum = newCounters()));
    // The plain-transfer kernel reads counters by ordinal from counterRows, not through the
    // account.
    const { values, at, wide } = account.counters;
    if (!state.counterRows.holds(account.ordinal, account.counters))
      violations.push({ rule: 'counter_row', detail: account.id });
    if (wide !== null && values.subarray(at, at + 4).some((value) => value !== Infinity)) {
      violations.push({ rule: 'wide_counters_marked', detail: account.id });
    }
    const [debitsPosted, creditsPosted, debitsPending, creditsPending] = [0, 1, 2, 3].map((index) =>
      read(account.counters, index as 0 | 1 | 2 | 3),
    ) as [bigint, bigint, bigint, bigint];
    for (const [index, value] of [
      debitsPosted,
      creditsPosted,
      debitsPending,
      creditsPending,
    ].entries()) {
      if (value < 0n || value > AMOUNT_MAX)
        violations.push({ rule: 'counter_in_range', detail: `${account.id}[${index}] = ${value}` });
      addCounter(sum, index as 0 | 1 | 2 | 3, value);
    }
    if (
      (account.flags & accountFlags.debitsMustNotExceedCredits) !== 0 &&
      debitsPosted + debitsPending > creditsPosted
    ) {
      violations.push({ rule: 'debits_must_not_exceed_credits', detail: account.id });
    }
    if (
      (account.flags & accountFlags.creditsMustNotExceedDebits) !== 0 &&
      creditsPosted + creditsPending > debitsPosted
    ) {
      violations.push({ rule: 'credits_must_not_exceed_debits', detail: account.id });
    }
    // Nothing moves a closed account's counters: they stay as they were when it closed.
    const settled = debitsPosted === creditsPosted && debitsPending === 0n && creditsPending === 0n;
    if ((account.flags & accountFlags.closed) !== 0 && !settled)
      violations.push({ rule: 'closed_account_settled', detail: account.id });
  }
  return sums;
}

/** What the open holds and reservations hold per currency: [debits, credits]. */
function heldByCurrency(state: LedgerState): Map<string, [bigint, bigint]> {
  const held = new Map<string, [bigint, bigint]>();
  const hold = (currency: string, debit: bigint, credit: bigint): void => {
    const entry = held.get(currency) ?? [0n, 0n];
    held.set(currency, [entry[0] + debit, entry[1] + credit]);
  };
  for (const pending of state.pending.values())
    hold(pending.currency, pending.amount, pending.amount);
  for (const reservation of state.reservations.values()) {
    for (const leg of reservation.legs) {
      hold(
        leg.transfer.currency,
        leg.side === 'debit' ? leg.transfer.amount : 0n,
        leg.side === 'credit' ? leg.transfer.amount : 0n,
      );
    }
  }
  return held;
}

/** Checks each currency's running totals against the accounts' counters (`sums`) and its pending
 * counters against the open holds and reservations. */
function auditTotals(
  state: LedgerState,
  sums: Map<string, Counters>,
  violations: Violation[],
): void {
  const held = heldByCurrency(state);
  for (const [currency, totals] of state.totals) {
    const sum = sums.get(currency) ?? newCounters();
    for (let index = 0; index < 4; index += 1) {
      const expected = read(totals.accounts, index as 0 | 1 | 2 | 3);
      const actual = read(sum, index as 0 | 1 | 2 | 3);
      if (expected !== actual) {
        violations.push({
          rule: 'totals_match_accounts',
          detail: `${currency}[${index}]: totals ${expected}, accounts ${actual}`,
        });
      }
    }
    const [heldDebits, heldCredits] = held.get(currency) ?? [0n, 0n];
    if (heldDebits !== read(totals.accounts, 2)) {
      violations.push({
        rule: 'pending_debits_match_holds',
        detail: `${currency}: counters ${read(totals.accounts, 2)}, holds ${heldDebits}`,
      });
    }
    if (heldCredits !== read(totals.accounts, 3)) {
      violations.push({
        rule: 'pending_credits_match_holds',
        detail: `${currency}: counters ${read(totals.accounts, 3)}, holds ${heldCredits}`,
      });
    }
  }
}

/** The id order of each currency's accounts, live against replayed. */
function diffAccountOrders(live: LedgerState, replayed: LedgerState): Violation[] {
  const violations: Violation[] = [];
  const currencies = new Set([
    ...live.accountOrder.byCurrency.keys(),
    ...replayed.accountOrder.byCurrency.keys(),
  ]);
  for (const currency of currencies) {
    const left = live.accountOrder.byCurrency.get(currency)?.all() ?? [];
    const right = replayed.accountOrder.byCurrency.get(currency)?.all() ?? [];
    if (left.length !== right.length || left.some((id, index) => id !== right[index]))
      violations.push({
        rule: 'replay_account_order',
        detail: `${currency}: live ${left.length} ids, replayed ${right.length}, in another order`,
      });
  }
  return violations;
}

/** Counter-by-counter comparison of two states (replay against live). */
export function diffStates(live: LedgerState, replayed: LedgerState): Violation[] {
  return allSteps(diffStatesSteps(live, replayed));
}

/** diffStates, a step at a time. */
export function* diffStatesSteps(live: LedgerState, replayed: LedgerState): AuditSteps {
  const violations: Violation[] = [];
  let compared = 0;
  if (live.lastSequence !== replayed.lastSequence) {
    violations.push({
      rule: 'replay_sequence',
      detail: `live ${live.lastSequence}, replayed ${replayed.lastSequence}`,
    });
  }
  if (live.accounts.size !== replayed.accounts.size) {
    violations.push({
      rule: 'replay_accounts',
      detail: `live ${live.accounts.size}, replayed ${replayed.accounts.size}`,
    });
  }
  for (const [id, account] of live.accounts) {
    if (++compared % accountsPerStep === 0) yield;
    const other = replayed.accounts.get(id);
    if (other === undefined) {
      violations.push({ rule: 'replay_accounts', detail: `${id} missing after replay` });
      continue;
    }
    if (account.flags !== other.flags)
      violations.push({
        rule: 'replay_accounts',
        detail: `${id}: flags live ${account.flags}, replayed ${other.flags}`,
      });
    for (let index = 0; index < 4; index += 1) {
      const left = read(account.counters, index as 0 | 1 | 2 | 3);
      const right = read(other.counters, index as 0 | 1 | 2 | 3);
      if (left !== right)
        violations.push({
          rule: 'replay_counters',
          detail: `${id}[${index}]: live ${left}, replayed ${right}`,
        });
    }
  }
  violations.push(...diffAccountOrders(live, replayed));
  for (const id of live.pending.keys()) {
    if (!replayed.pending.has(id))
      violations.push({ rule: 'replay_pending', detail: `${id} open live, not after replay` });
  }
  for (const id of replayed.pending.keys()) {
    if (!live.pending.has(id))
      violations.push({ rule: 'replay_pending', detail: `${id} open after replay, not live` });
  }
  for (const id of live.reservations.keys()) {
    if (!replayed.reservations.has(id))
      violations.push({ rule: 'replay_reservations', detail: `${id} open live only` });
  }
  for (const id of replayed.reservations.keys()) {
    if (!live.reservations.has(id))
      violations.push({ rule: 'replay_reservations', detail: `${id} open after replay only` });
  }
  return violations;
}
