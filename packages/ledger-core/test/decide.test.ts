// Every decider rule and rejection code, given/when/then on MemoryLedger: no storage involved.
import { describe, expect, it } from 'vitest';
import {
  accountFlags,
  errorCatalogue,
  limits,
  parseResolution,
  type Command,
  type RejectionCode,
  type ReservationLeg,
  type TransferSpec,
} from '../src/index.js';
import { AMOUNT_MAX } from '../src/limits.js';
import { auditState } from '../src/domain/audit.js';
import {
  CREDITS_PENDING,
  CREDITS_POSTED,
  DEBITS_PENDING,
  DEBITS_POSTED,
  readCounter,
  type CounterIndex,
} from '../src/domain/balance.js';
import { decide } from '../src/domain/decide.js';
import { applyPlainTransfer } from '../src/domain/plain-transfer.js';
import { type Decision } from '../src/domain/types.js';
import { type LedgerState } from '../src/domain/state.js';
import { givenWhen, MemoryLedger } from '../src/testing.js';
import { account, spec } from './fixtures/engine-fixtures.js';

const MS = 1_000_000n;

function transfer(
  id: string,
  debit: string,
  credit: string,
  amount: bigint,
  extra: Record<string, unknown> = {},
): Command {
  return { type: 'CreateTransfer', transfer: spec(id, debit, credit, amount, extra) };
}

function group(...transfers: TransferSpec[]): Command {
  return { type: 'CreateTransferGroup', transfers };
}

function post(
  id: string,
  pendingId: string,
  amount?: bigint,
  metadata?: Record<string, string>,
): Command {
  const parsed = parseResolution({ id, pendingId, amount, metadata }, true);
  if (!parsed.ok) throw new Error(parsed.code);
  return { type: 'PostPendingTransfer', resolution: parsed.value };
}

function voidOf(id: string, pendingId: string): Command {
  const parsed = parseResolution({ id, pendingId }, false);
  if (!parsed.ok) throw new Error(parsed.code);
  return { type: 'VoidPendingTransfer', resolution: parsed.value };
}

function reserve(sagaId: string, ...legs: ReservationLeg[]): Command {
  return { type: 'ReserveFunds', sagaId, participants: [0, 1], legs };
}

const commit = (sagaId: string): Command => ({ type: 'CommitReservation', sagaId });
const release = (sagaId: string): Command => ({
  type: 'ReleaseReservation',
  sagaId,
  reason: 'test',
});
const expire: Command = { type: 'ExpirePendingTransfers' };

/** Codes this file has seen returned; the last test checks every decider code was covered. */
const seen = new Set<RejectionCode>();

function expectCode(decision: Decision, code: RejectionCode): void {
  expect(decision).toMatchObject({ ok: false, code });
  seen.add(code);
  if (!decision.ok && decision.codes !== undefined)
    for (const each of decision.codes) seen.add(each);
}

function expectOk(decision: Decision, types?: string[]): void {
  expect(decision).toMatchObject({ ok: true, exists: false });
  if (decision.ok && types !== undefined)
    expect(decision.events.map((event) => event.type)).toEqual(types);
}

function expectExists(decision: Decision): void {
  expect(decision).toMatchObject({ ok: true, exists: true, events: [] });
}

function counter(ledger: MemoryLedger, id: string, index: CounterIndex): bigint {
  const found = ledger.state.accounts.get(id);
  if (found === undefined) throw new Error(`no account ${id}`);
  return readCounter(found.counters, index);
}

function counters(ledger: MemoryLedger, id: string): bigint[] {
  const order: CounterIndex[] = [DEBITS_POSTED, CREDITS_POSTED, DEBITS_PENDING, CREDITS_PENDING];
  return order.map((index) => counter(ledger, id, index));
}

/** A ledger with accounts a, b, c (plain) and `wallet` (debitsMustNotExceedCredits), all USD. */
function ledgerWith(...commands: Command[]): MemoryLedger {
  const ledger = new MemoryLedger();
  for (const command of [account('a'), account('b'), account('c'), ...commands]) {
    const decision = ledger.execute(command);
    if (!decision.ok) throw new Error(`setup ${command.type}: ${decision.code}`);
  }
  return ledger;
}

/** Runs a command and asserts the state is unchanged when it is rejected or already exists. */
function run(ledger: MemoryLedger, command: Command): Decision {
  const before = JSON.stringify(ledger.state.accounts, (_key, value: unknown) =>
    typeof value === 'bigint'
      ? value.toString()
      : value instanceof Map
        ? [...value.entries()]
        : value,
  );
  const sequence = ledger.state.lastSequence;
  const decision = ledger.execute(command);
  if (!decision.ok || decision.exists) {
    expect(ledger.state.lastSequence).toBe(sequence);
    const after = JSON.stringify(ledger.state.accounts, (_key, value: unknown) =>
      typeof value === 'bigint'
        ? value.toString()
        : value instanceof Map
          ? [...value.entries()]
          : value,
    );
    expect(after).toBe(before);
  }
  expect(auditState(ledger.state)).toEqual([]);
  return decision;
}

describe('accounts', () => {
  it('creates an account and records an AccountCreated event', () => {
    const { decision } = givenWhen({ given: [], when: account('a') });
    expectOk(decision, ['AccountCreated']);
  });

  it('returns exists for an identical resubmission of an account', () => {
    const { decision } = givenWhen({
      given: [account('a', { metadata: { k: 'v' } })],
      when: account('a', { metadata: { k: 'v' } }),
    });
    expectExists(decision);
  });

  it('rejects an account id reused with another currency, flags or metadata', () => {
    const variants = [
      account('a', { currency: 'EUR' }),
      account('a', { debitsMustNotExceedCredits: true }),
      account('a', { metadata: { k: 'other' } }),
    ];
    for (const when of variants) {
      expectCode(
        givenWhen({ given: [account('a', { metadata: { k: 'v' } })], when }).decision,
        'EXISTS_WITH_DIFFERENT_FIELDS',
      );
    }
  });
});

describe('single-phase transfers', () => {
  it('creates a transfer between two existing accounts and moves the posted counters', () => {
    const ledger = ledgerWith();
    expectOk(run(ledger, transfer('t1', 'a', 'b', 10n)), ['TransferCreated']);
    expect(counters(ledger, 'a')).toEqual([10n, 0n, 0n, 0n]);
    expect(counters(ledger, 'b')).toEqual([0n, 10n, 0n, 0n]);
  });

  it('returns exists for an identical resubmission and changes nothing', () => {
    const ledger = ledgerWith(transfer('t1', 'a', 'b', 10n, { metadata: { order: '7' } }));
    expectExists(run(ledger, transfer('t1', 'a', 'b', 10n, { metadata: { order: '7' } })));
    expect(counters(ledger, 'a')).toEqual([10n, 0n, 0n, 0n]);
  });

  it('rejects a transfer id reused with any field changed', () => {
    const ledger = ledgerWith(
      account('d', { currency: 'EUR' }),
      account('e', { currency: 'EUR' }),
      transfer('t1', 'a', 'b', 10n),
    );
    const variants = [
      transfer('t1', 'a', 'b', 11n),
      transfer('t1', 'a', 'c', 10n),
      transfer('t1', 'c', 'b', 10n),
      transfer('t1', 'a', 'b', 10n, { pending: true }),
      transfer('t1', 'a', 'b', 10n, { metadata: { k: 'v' } }),
      {
        type: 'CreateTransfer',
        transfer: { ...spec('t1', 'd', 'e', 10n), currency: 'EUR' },
      } as Command,
    ];
    for (const command of variants)
      expectCode(run(ledger, command), 'EXISTS_WITH_DIFFERENT_FIELDS');
  });

  it('rejects a transfer whose debit and credit account are the same', () => {
    expectCode(run(ledgerWith(), transfer('t1', 'a', 'a', 1n)), 'ACCOUNTS_MUST_BE_DIFFERENT');
  });

  it('rejects a transfer naming an account that does not exist, on either side', () => {
    const ledger = ledgerWith();
    expectCode(run(ledger, transfer('t1', 'nobody', 'b', 1n)), 'ACCOUNT_NOT_FOUND');
    expectCode(run(ledger, transfer('t2', 'a', 'nobody', 1n)), 'ACCOUNT_NOT_FOUND');
  });

  it('rejects a transfer whose currency differs from either account', () => {
    const ledger = ledgerWith(account('eur', { currency: 'EUR' }));
    expectCode(run(ledger, transfer('t1', 'a', 'eur', 1n)), 'CURRENCY_MISMATCH');
    expectCode(run(ledger, transfer('t2', 'eur', 'a', 1n)), 'CURRENCY_MISMATCH');
    const eurTransfer = { ...spec('t3', 'a', 'b', 1n), currency: 'EUR' };
    expectCode(run(ledger, { type: 'CreateTransfer', transfer: eurTransfer }), 'CURRENCY_MISMATCH');
  });

  it('rejects a transfer that would overdraw a debitsMustNotExceedCredits account', () => {
    const { decision } = givenWhen({
      given: [account('wallet', { debitsMustNotExceedCredits: true }), account('shop')],
      when: transfer('t1', 'wallet', 'shop', 1n),
    });
    expectCode(decision, 'INSUFFICIENT_FUNDS');
  });

  it('lets a debitsMustNotExceedCredits account spend exactly its posted credits, not one more', () => {
    const ledger = ledgerWith(
      account('wallet', { debitsMustNotExceedCredits: true }),
      transfer('fund', 'a', 'wallet', 100n),
    );
    expectOk(run(ledger, transfer('t1', 'wallet', 'b', 60n)));
    expectCode(run(ledger, transfer('t2', 'wallet', 'b', 41n)), 'INSUFFICIENT_FUNDS');
    expectOk(run(ledger, transfer('t3', 'wallet', 'b', 40n)));
    expect(counters(ledger, 'wallet')).toEqual([100n, 100n, 0n, 0n]);
  });

  it('counts pending debits against a debitsMustNotExceedCredits account, but not pending credits', () => {
    const ledger = ledgerWith(
      account('wallet', { debitsMustNotExceedCredits: true }),
      transfer('fund', 'a', 'wallet', 100n),
    );
    expectOk(run(ledger, transfer('hold', 'wallet', 'b', 70n, { pending: true })));
    expectCode(run(ledger, transfer('t1', 'wallet', 'b', 31n)), 'INSUFFICIENT_FUNDS');
    expectOk(run(ledger, transfer('incoming', 'c', 'wallet', 50n, { pending: true })));
    expectCode(run(ledger, transfer('t2', 'wallet', 'b', 31n)), 'INSUFFICIENT_FUNDS');
    expectOk(run(ledger, transfer('t3', 'wallet', 'b', 30n)));
  });

  it('rejects a transfer that would make a creditsMustNotExceedDebits account exceed its debits', () => {
    const ledger = ledgerWith(account('credit', { creditsMustNotExceedDebits: true }));
    expectCode(run(ledger, transfer('t1', 'a', 'credit', 1n)), 'EXCEEDS_DEBITS');
    expectOk(run(ledger, transfer('t2', 'credit', 'a', 5n)));
    expectOk(run(ledger, transfer('t3', 'a', 'credit', 5n)));
    expectCode(run(ledger, transfer('t4', 'a', 'credit', 1n)), 'EXCEEDS_DEBITS');
    expectCode(run(ledger, transfer('t5', 'a', 'credit', 1n, { pending: true })), 'EXCEEDS_DEBITS');
  });

  it('never changes state or index when a transfer is rejected', () => {
    const ledger = ledgerWith(account('wallet', { debitsMustNotExceedCredits: true }));
    const size = ledger.index.transfers.size;
    expectCode(run(ledger, transfer('t1', 'wallet', 'a', 1n)), 'INSUFFICIENT_FUNDS');
    expect(ledger.index.transfers.size).toBe(size);
    expect(ledger.index.transfers.has('t1')).toBe(false);
  });
});

describe('u128 overflow', () => {
  it('accepts a transfer of exactly 2^128-1', () => {
    const ledger = ledgerWith();
    expectOk(run(ledger, transfer('max', 'a', 'b', AMOUNT_MAX)));
    expect(counters(ledger, 'a')).toEqual([AMOUNT_MAX, 0n, 0n, 0n]);
    expect(counters(ledger, 'b')).toEqual([0n, AMOUNT_MAX, 0n, 0n]);
  });

  it('rejects a debit that would take debits past 2^128-1, posted or pending', () => {
    const ledger = ledgerWith(transfer('big', 'a', 'b', AMOUNT_MAX - 1n));
    expectOk(run(ledger, transfer('t1', 'a', 'c', 1n, { pending: true })));
    expectCode(run(ledger, transfer('t2', 'a', 'c', 1n)), 'OVERFLOW');
    expectCode(run(ledger, transfer('t3', 'a', 'c', 1n, { pending: true })), 'OVERFLOW');
  });

  it('rejects a credit that would take credits past 2^128-1', () => {
    const ledger = ledgerWith(transfer('big', 'a', 'b', AMOUNT_MAX));
    expectCode(run(ledger, transfer('t1', 'c', 'b', 1n)), 'OVERFLOW');
    expectCode(run(ledger, transfer('t2', 'c', 'b', AMOUNT_MAX, { pending: true })), 'OVERFLOW');
  });

  it('rejects a group whose members overflow only together', () => {
    const ledger = ledgerWith();
    const decision = run(ledger, group(spec('g1', 'a', 'b', AMOUNT_MAX), spec('g2', 'a', 'c', 1n)));
    expectCode(decision, 'OVERFLOW');
    expect(decision).toMatchObject({ codes: ['LINKED_TRANSFER_FAILED', 'OVERFLOW'] });
  });

  it('keeps per-currency totals exact when they pass 2^128', () => {
    const ledger = ledgerWith(
      transfer('t1', 'a', 'b', AMOUNT_MAX),
      transfer('t2', 'c', 'a', AMOUNT_MAX),
    );
    const totals = ledger.state.totals.get('USD');
    if (totals === undefined) throw new Error('no USD totals');
    expect(readCounter(totals.accounts, DEBITS_POSTED)).toBe(2n * AMOUNT_MAX);
    expect(auditState(ledger.state)).toEqual([]);
  });
});

describe('two-phase transfers', () => {
  it('holds a pending transfer in the pending counters only', () => {
    const ledger = ledgerWith();
    expectOk(run(ledger, transfer('p1', 'a', 'b', 10n, { pending: true })));
    expect(counters(ledger, 'a')).toEqual([0n, 0n, 10n, 0n]);
    expect(counters(ledger, 'b')).toEqual([0n, 0n, 0n, 10n]);
    expect(ledger.state.pending.has('p1')).toBe(true);
    expect(ledger.index.transfers.get('p1')?.state).toBe('pending');
  });

  it('posts the full pending amount when the post names no amount', () => {
    const ledger = ledgerWith(transfer('p1', 'a', 'b', 10n, { pending: true }));
    expectOk(run(ledger, post('x1', 'p1')), ['PendingTransferPosted']);
    expect(counters(ledger, 'a')).toEqual([10n, 0n, 0n, 0n]);
    expect(counters(ledger, 'b')).toEqual([0n, 10n, 0n, 0n]);
    expect(ledger.index.transfers.get('p1')).toMatchObject({ state: 'posted', postedAmount: 10n });
    expect(ledger.state.pending.has('p1')).toBe(false);
  });

  it('posts a smaller amount and releases the rest of the hold', () => {
    const ledger = ledgerWith(transfer('p1', 'a', 'b', 10n, { pending: true }));
    expectOk(run(ledger, post('x1', 'p1', 4n)));
    expect(counters(ledger, 'a')).toEqual([4n, 0n, 0n, 0n]);
    expect(counters(ledger, 'b')).toEqual([0n, 4n, 0n, 0n]);
    expect(ledger.index.transfers.get('p1')).toMatchObject({ state: 'posted', postedAmount: 4n });
  });

  it('rejects a post for more than the pending amount', () => {
    const ledger = ledgerWith(transfer('p1', 'a', 'b', 10n, { pending: true }));
    expectCode(run(ledger, post('x1', 'p1', 11n)), 'AMOUNT_EXCEEDS_PENDING');
    expectOk(run(ledger, post('x2', 'p1', 10n)));
  });

  it('voids a pending transfer and returns both pending counters to zero', () => {
    const ledger = ledgerWith(transfer('p1', 'a', 'b', 10n, { pending: true }));
    expectOk(run(ledger, voidOf('v1', 'p1')), ['PendingTransferVoided']);
    expect(counters(ledger, 'a')).toEqual([0n, 0n, 0n, 0n]);
    expect(counters(ledger, 'b')).toEqual([0n, 0n, 0n, 0n]);
    expect(ledger.index.transfers.get('p1')?.state).toBe('voided');
  });

  it('resolves a hold at most once: post then post, post then void, void then post', () => {
    const ledger = ledgerWith(
      transfer('p1', 'a', 'b', 10n, { pending: true }),
      transfer('p2', 'a', 'b', 10n, { pending: true }),
    );
    expectOk(run(ledger, post('x1', 'p1')));
    expectCode(run(ledger, post('x2', 'p1')), 'PENDING_ALREADY_POSTED');
    expectCode(run(ledger, voidOf('x3', 'p1')), 'PENDING_ALREADY_POSTED');
    expectOk(run(ledger, voidOf('v1', 'p2')));
    expectCode(run(ledger, post('x4', 'p2')), 'PENDING_ALREADY_VOIDED');
    expectCode(run(ledger, voidOf('x5', 'p2')), 'PENDING_ALREADY_VOIDED');
  });

  it('returns exists for an identical re-sent post or void, and rejects one with other fields', () => {
    const ledger = ledgerWith(
      transfer('p1', 'a', 'b', 10n, { pending: true }),
      transfer('p2', 'a', 'b', 10n, { pending: true }),
    );
    expectOk(run(ledger, post('x1', 'p1', 6n, { why: 'capture' })));
    expectExists(run(ledger, post('x1', 'p1', 6n, { why: 'capture' })));
    expectCode(
      run(ledger, post('x1', 'p1', 5n, { why: 'capture' })),
      'EXISTS_WITH_DIFFERENT_FIELDS',
    );
    expectCode(run(ledger, post('x1', 'p1', 6n)), 'EXISTS_WITH_DIFFERENT_FIELDS');
    expectCode(run(ledger, voidOf('x1', 'p1')), 'EXISTS_WITH_DIFFERENT_FIELDS');
    expectOk(run(ledger, voidOf('v2', 'p2')));
    expectExists(run(ledger, voidOf('v2', 'p2')));
    expectCode(run(ledger, post('v2', 'p2')), 'EXISTS_WITH_DIFFERENT_FIELDS');
    expect(counters(ledger, 'a')).toEqual([6n, 0n, 0n, 0n]);
  });

  it('rejects a post or void of an id that was never a transfer', () => {
    const ledger = ledgerWith();
    expectCode(run(ledger, post('x1', 'ghost')), 'PENDING_NOT_FOUND');
    expectCode(run(ledger, voidOf('x2', 'ghost')), 'PENDING_NOT_FOUND');
  });

  it('rejects a post or void of a single-phase transfer, or of a post', () => {
    const ledger = ledgerWith(
      transfer('t1', 'a', 'b', 10n),
      transfer('p1', 'a', 'b', 10n, { pending: true }),
      post('x1', 'p1'),
    );
    expectCode(run(ledger, post('x2', 't1')), 'NOT_PENDING');
    expectCode(run(ledger, voidOf('x3', 't1')), 'NOT_PENDING');
    expectCode(run(ledger, post('x4', 'x1')), 'NOT_PENDING');
  });

  it('uses a pending transfer id that collides with nothing else for its post', () => {
    const ledger = ledgerWith(
      transfer('t1', 'a', 'b', 10n),
      transfer('p1', 'a', 'b', 10n, { pending: true }),
    );
    expectCode(run(ledger, post('t1', 'p1')), 'EXISTS_WITH_DIFFERENT_FIELDS');
    expectCode(run(ledger, post('p1', 'p1')), 'EXISTS_WITH_DIFFERENT_FIELDS');
  });

  it('refuses a new hold once the shard holds pendingOpenMax open holds', () => {
    const ledger = ledgerWith();
    class FullMap<K, V> extends Map<K, V> {
      override get size(): number {
        return limits.pendingOpenMax;
      }
    }
    const full: LedgerState = { ...ledger.state, pending: new FullMap(ledger.state.pending) };
    const context = ledger.index.context(ledger.state.lastTimestamp + 1n);
    expectCode(
      decide(transfer('p1', 'a', 'b', 1n, { pending: true }), full, context),
      'TOO_MANY_PENDING',
    );
    expectCode(
      decide(group(spec('g1', 'a', 'b', 1n, { pending: true })), full, context),
      'TOO_MANY_PENDING',
    );
    expectOk(decide(transfer('t1', 'a', 'b', 1n), full, context));
  });
});

describe('pending timeouts', () => {
  it('expires a hold once its timeout has passed, and not a nanosecond before', () => {
    const ledger = ledgerWith(transfer('p1', 'a', 'b', 10n, { pending: true, timeoutMs: 1_000 }));
    const createdAt = ledger.index.transfers.get('p1')?.timestamp ?? 0n;
    ledger.advance(1_000n * MS - 100n);
    const early = run(ledger, expire);
    expect(early).toMatchObject({ ok: true, events: [] });
    expect(ledger.state.lastTimestamp).toBeLessThan(createdAt + 1_000n * MS);
    ledger.advance(1_000n);
    expectOk(run(ledger, expire), ['PendingTransferExpired']);
    expect(counters(ledger, 'a')).toEqual([0n, 0n, 0n, 0n]);
    expect(ledger.index.transfers.get('p1')?.state).toBe('expired');
    expect(run(ledger, expire)).toMatchObject({ ok: true, events: [] });
  });

  it('rejects a post or void after expiry, whether or not the expiry event was written yet', () => {
    const ledger = ledgerWith(transfer('p1', 'a', 'b', 10n, { pending: true, timeoutMs: 1 }));
    ledger.advance(2n * MS);
    expectCode(run(ledger, post('x1', 'p1')), 'PENDING_EXPIRED');
    expectCode(run(ledger, voidOf('x2', 'p1')), 'PENDING_EXPIRED');
    expectOk(run(ledger, expire));
    expectCode(run(ledger, post('x3', 'p1')), 'PENDING_EXPIRED');
    expectCode(run(ledger, voidOf('x4', 'p1')), 'PENDING_EXPIRED');
  });

  it('expires due holds in expiry order and skips holds already resolved or without timeout', () => {
    const ledger = ledgerWith(
      transfer('late', 'a', 'b', 1n, { pending: true, timeoutMs: 30 }),
      transfer('early', 'a', 'b', 2n, { pending: true, timeoutMs: 10 }),
      transfer('posted', 'a', 'b', 3n, { pending: true, timeoutMs: 5 }),
      transfer('never', 'a', 'b', 4n, { pending: true }),
      post('x1', 'posted'),
    );
    ledger.advance(60n * MS);
    const decision = run(ledger, expire);
    expectOk(decision);
    if (decision.ok)
      expect(decision.events.map((event) => ('pendingId' in event ? event.pendingId : ''))).toEqual(
        ['early', 'late'],
      );
    expect(ledger.state.pending.has('never')).toBe(true);
    expect(counters(ledger, 'a')).toEqual([3n, 0n, 4n, 0n]);
  });

  it('lets a hold be posted right up to its deadline', () => {
    const ledger = ledgerWith(transfer('p1', 'a', 'b', 10n, { pending: true, timeoutMs: 1 }));
    ledger.advance(MS - 100n);
    expectOk(run(ledger, post('x1', 'p1')));
    ledger.advance(10n * MS);
    expect(run(ledger, expire)).toMatchObject({ ok: true, events: [] });
  });
});

describe('atomic groups', () => {
  it('applies every member of a group, in order, each seeing the earlier ones', () => {
    const ledger = ledgerWith(account('wallet', { debitsMustNotExceedCredits: true }));
    const decision = run(
      ledger,
      group(
        spec('g1', 'a', 'wallet', 10n),
        spec('g2', 'wallet', 'b', 7n),
        spec('g3', 'wallet', 'c', 3n),
      ),
    );
    expectOk(decision, ['TransferCreated', 'TransferCreated', 'TransferCreated']);
    expect(counters(ledger, 'wallet')).toEqual([10n, 10n, 0n, 0n]);
  });

  it('applies none when one member fails, and marks the others LINKED_TRANSFER_FAILED', () => {
    const ledger = ledgerWith(account('wallet', { debitsMustNotExceedCredits: true }));
    const decision = run(
      ledger,
      group(
        spec('g1', 'a', 'wallet', 10n),
        spec('g2', 'wallet', 'b', 11n),
        spec('g3', 'a', 'c', 1n),
      ),
    );
    expectCode(decision, 'INSUFFICIENT_FUNDS');
    expect(decision).toMatchObject({
      codes: ['LINKED_TRANSFER_FAILED', 'INSUFFICIENT_FUNDS', 'LINKED_TRANSFER_FAILED'],
    });
    expect(counters(ledger, 'wallet')).toEqual([0n, 0n, 0n, 0n]);
    expect(ledger.index.transfers.has('g1')).toBe(false);
  });

  it('reports each failing member with its own code', () => {
    const ledger = ledgerWith();
    const decision = run(
      ledger,
      group(spec('g1', 'a', 'ghost', 1n), spec('g2', 'a', 'b', 1n), spec('g3', 'b', 'b', 1n)),
    );
    expect(decision).toMatchObject({
      ok: false,
      code: 'ACCOUNT_NOT_FOUND',
      codes: ['ACCOUNT_NOT_FOUND', 'LINKED_TRANSFER_FAILED', 'ACCOUNTS_MUST_BE_DIFFERENT'],
    });
    expectCode(decision, 'ACCOUNT_NOT_FOUND');
  });

  it('rejects a group in which two members share an id', () => {
    const decision = run(
      ledgerWith(),
      group(spec('g1', 'a', 'b', 1n), spec('g2', 'a', 'b', 1n), spec('g1', 'a', 'c', 1n)),
    );
    expectCode(decision, 'DUPLICATE_ID_IN_GROUP');
    expect(decision).toMatchObject({
      codes: ['LINKED_TRANSFER_FAILED', 'LINKED_TRANSFER_FAILED', 'DUPLICATE_ID_IN_GROUP'],
    });
  });

  it('returns exists for every member of an identical re-sent group', () => {
    const members = [spec('g1', 'a', 'b', 1n), spec('g2', 'b', 'c', 1n, { pending: true })];
    const ledger = ledgerWith(group(...members));
    const decision = run(ledger, group(...members));
    expectExists(decision);
    expect(decision).toMatchObject({ existsEach: [true, true] });
  });

  it('rejects a re-sent group that differs from the stored one, naming the members that differ', () => {
    const ledger = ledgerWith(group(spec('g1', 'a', 'b', 1n), spec('g2', 'b', 'c', 1n)));
    const decision = run(ledger, group(spec('g1', 'a', 'b', 1n), spec('g2', 'b', 'c', 2n)));
    expectCode(decision, 'EXISTS_WITH_DIFFERENT_FIELDS');
    expect(decision).toMatchObject({
      codes: ['LINKED_TRANSFER_FAILED', 'EXISTS_WITH_DIFFERENT_FIELDS'],
    });
  });

  it('rejects a group reusing one id of an earlier transfer and applies none of it', () => {
    const ledger = ledgerWith(transfer('t1', 'a', 'b', 1n));
    const decision = run(ledger, group(spec('new', 'a', 'c', 1n), spec('t1', 'a', 'b', 1n)));
    expect(decision.ok).toBe(false);
    expect(ledger.index.transfers.has('new')).toBe(false);
  });

  it('opens holds inside a group that can be posted later', () => {
    const ledger = ledgerWith(
      group(spec('g1', 'a', 'b', 5n, { pending: true }), spec('g2', 'a', 'c', 1n)),
    );
    expectOk(run(ledger, post('x1', 'g1')));
    expect(counters(ledger, 'a')).toEqual([6n, 0n, 0n, 0n]);
  });
});

describe('cross-shard reservations (saga steps)', () => {
  // This shard owns `a` (debit side); the credit account lives on another shard.
  const debitLeg = (id: string, amount: bigint): ReservationLeg => ({
    side: 'debit',
    transfer: spec(id, 'a', 'remote', amount),
  });
  const creditLeg = (id: string, amount: bigint): ReservationLeg => ({
    side: 'credit',
    transfer: spec(id, 'remote', 'b', amount),
  });

  it('reserves funds in the pending counter of the local side only', () => {
    const ledger = ledgerWith();
    expectOk(run(ledger, reserve('s1', debitLeg('x1', 5n), creditLeg('x2', 7n))), [
      'FundsReserved',
    ]);
    expect(counters(ledger, 'a')).toEqual([0n, 0n, 5n, 0n]);
    expect(counters(ledger, 'b')).toEqual([0n, 0n, 0n, 7n]);
    expect(ledger.index.transfers.get('x1')?.state).toBe('reserved');
    // The open saga is the reservation in the state; the saga index holds final outcomes only.
    expect(ledger.state.reservations.get('s1')?.legs).toHaveLength(2);
    expect(ledger.index.sagas.has('s1')).toBe(false);
  });

  it('commits a reservation into the posted counters, once', () => {
    const ledger = ledgerWith(reserve('s1', debitLeg('x1', 5n)));
    expectOk(run(ledger, commit('s1')), ['ReservationCommitted']);
    expect(counters(ledger, 'a')).toEqual([5n, 0n, 0n, 0n]);
    expectExists(run(ledger, commit('s1')));
    expectExists(run(ledger, reserve('s1', debitLeg('x1', 5n))));
    expectCode(run(ledger, release('s1')), 'RESERVATION_COMMITTED');
    expect(ledger.index.transfers.get('x1')?.state).toBe('posted');
  });

  it('releases a reservation and leaves the pending counters as before it', () => {
    const ledger = ledgerWith(reserve('s1', debitLeg('x1', 5n)));
    expectOk(run(ledger, release('s1')), ['ReservationReleased']);
    expect(counters(ledger, 'a')).toEqual([0n, 0n, 0n, 0n]);
    expectExists(run(ledger, release('s1')));
    expectCode(run(ledger, commit('s1')), 'RESERVATION_RELEASED');
    expectCode(run(ledger, reserve('s1', debitLeg('x1', 5n))), 'RESERVATION_RELEASED');
  });

  it('returns exists for a re-sent reservation still in flight', () => {
    const ledger = ledgerWith(reserve('s1', debitLeg('x1', 5n)));
    expectExists(run(ledger, reserve('s1', debitLeg('x1', 5n))));
    expect(counters(ledger, 'a')).toEqual([0n, 0n, 5n, 0n]);
  });

  it('writes a tombstone when a release arrives before its reservation, and then refuses the reservation', () => {
    const ledger = ledgerWith();
    const decision = run(ledger, release('s1'));
    expectOk(decision, ['ReservationReleased']);
    if (decision.ok) expect(decision.events[0]).toMatchObject({ legs: [] });
    expectCode(run(ledger, reserve('s1', debitLeg('x1', 5n))), 'RESERVATION_RELEASED');
    expectExists(run(ledger, release('s1')));
    expect(counters(ledger, 'a')).toEqual([0n, 0n, 0n, 0n]);
  });

  it('rejects a commit of a saga this shard never saw', () => {
    expectCode(run(ledgerWith(), commit('unknown')), 'RESERVATION_NOT_FOUND');
  });

  it('rejects a reservation whose transfer id is held by another saga in flight', () => {
    const ledger = ledgerWith(reserve('s1', debitLeg('x1', 5n)));
    expectCode(run(ledger, reserve('s2', debitLeg('x1', 5n))), 'TRANSFER_IN_FLIGHT');
  });

  it('rejects a plain transfer whose id is held by a saga in flight, then accepts it after release', () => {
    const ledger = ledgerWith(reserve('s1', { side: 'debit', transfer: spec('x1', 'a', 'b', 5n) }));
    expectCode(run(ledger, transfer('x1', 'a', 'b', 5n)), 'TRANSFER_IN_FLIGHT');
    expectCode(run(ledger, group(spec('x1', 'a', 'b', 5n))), 'TRANSFER_IN_FLIGHT');
    expectOk(run(ledger, release('s1')));
    expectOk(run(ledger, transfer('x1', 'a', 'b', 5n)));
  });

  it('returns exists for a plain transfer re-sent after its saga committed', () => {
    const ledger = ledgerWith(
      reserve('s1', { side: 'debit', transfer: spec('x1', 'a', 'b', 5n) }),
      commit('s1'),
    );
    expectExists(run(ledger, transfer('x1', 'a', 'b', 5n)));
  });

  it('frees the transfer id of a released saga for a new attempt', () => {
    const ledger = ledgerWith(reserve('s1', debitLeg('x1', 5n)), release('s1'));
    expectOk(run(ledger, reserve('s2', debitLeg('x1', 5n))));
  });

  it('answers exists for a new saga whose transfers are already posted with the same fields', () => {
    const ledger = ledgerWith(transfer('t1', 'a', 'b', 5n));
    const decision = run(
      ledger,
      reserve('s1', { side: 'debit', transfer: spec('t1', 'a', 'b', 5n) }),
    );
    expect(decision).toMatchObject({ ok: true, exists: true, events: [] });
  });

  it('rejects a reservation whose transfer id already exists with other fields', () => {
    const ledger = ledgerWith(transfer('t1', 'a', 'b', 5n));
    expectCode(
      run(ledger, reserve('s1', { side: 'debit', transfer: spec('t1', 'a', 'b', 6n) })),
      'EXISTS_WITH_DIFFERENT_FIELDS',
    );
  });

  it('holds a pending transfer across shards with one leg, but refuses one in an atomic group', () => {
    const ledger = ledgerWith();
    expectOk(
      run(
        ledger,
        reserve('s1', {
          side: 'debit',
          transfer: spec('h1', 'a', 'remote', 5n, { pending: true }),
        }),
      ),
    );
    expect(ledger.index.transfers.get('h1')?.state).toBe('pending');
    // Re-sent by a new saga (a retry): exists, as one shard answers for a hold.
    expect(
      run(
        ledger,
        reserve('s2', {
          side: 'debit',
          transfer: spec('h1', 'a', 'remote', 5n, { pending: true }),
        }),
      ),
    ).toMatchObject({ ok: true, exists: true, events: [] });
    const legs = [
      spec('g1', 'a', 'remote', 1n, { pending: true }),
      spec('g2', 'b', 'remote', 1n),
    ].map((transfer): ReservationLeg => ({ side: 'debit', transfer }));
    const group = run(ledger, reserve('s3', ...legs));
    expectCode(group, 'CROSS_SHARD_PENDING_UNSUPPORTED');
    expect(group).toMatchObject({
      codes: ['CROSS_SHARD_PENDING_UNSUPPORTED', 'LINKED_TRANSFER_FAILED'],
    });
  });

  it('posts a cross-shard hold on its deciding shard in full or in part, once, with the checks of a one-shard post', () => {
    const hold = (id: string, amount: bigint, extra: Record<string, unknown> = {}): Command =>
      reserve(`s-${id}`, {
        side: 'debit',
        transfer: spec(id, 'a', 'remote', amount, { pending: true, ...extra }),
      });
    const post = (
      id: string,
      sagaId: string,
      pendingId: string,
      amount: bigint | null,
    ): Command => ({
      type: 'CommitReservation',
      sagaId,
      resolution: { id, pendingId, amount, metadata: null },
    });
    const voids = (id: string, sagaId: string, pendingId: string): Command => ({
      type: 'ReleaseReservation',
      sagaId,
      reason: 'voided',
      resolution: { id, pendingId, amount: null, metadata: null },
    });
    const ledger = ledgerWith(hold('h1', 10n), hold('h2', 10n), hold('h3', 10n, { timeoutMs: 5 }));
    expectCode(run(ledger, post('p1', 's-h1', 'h1', 11n)), 'AMOUNT_EXCEEDS_PENDING');
    const posted = run(ledger, post('p1', 's-h1', 'h1', 4n));
    expect(posted).toMatchObject({
      ok: true,
      events: [{ type: 'ReservationCommitted', amount: 4n, resolution: { id: 'p1' } }],
    });
    expect(ledger.index.transfers.get('h1')).toMatchObject({ state: 'posted', postedAmount: 4n });
    expect(ledger.index.transfers.get('p1')).toMatchObject({
      kind: 'post',
      pendingId: 'h1',
      amount: 4n,
    });
    expect(counters(ledger, 'a')).toEqual([4n, 0n, 20n, 0n]);
    expectExists(run(ledger, post('p1', 's-h1', 'h1', 4n)));
    expectCode(run(ledger, post('p1', 's-h1', 'h1', 5n)), 'EXISTS_WITH_DIFFERENT_FIELDS');
    expectCode(run(ledger, post('p2', 's-h1', 'h1', null)), 'PENDING_ALREADY_POSTED');
    expectOk(run(ledger, voids('v2', 's-h2', 'h2')));
    expect(ledger.index.transfers.get('h2')?.state).toBe('voided');
    expectCode(run(ledger, post('p3', 's-h2', 'h2', null)), 'PENDING_ALREADY_VOIDED');
    ledger.advance(6_000_000n);
    expectCode(run(ledger, post('p4', 's-h3', 'h3', null)), 'PENDING_EXPIRED');
    expectOk(run(ledger, { type: 'ReleaseReservation', sagaId: 's-h3', reason: 'expired' }));
    expect(ledger.index.transfers.get('h3')?.state).toBe('expired');
    expectCode(run(ledger, voids('v4', 's-h3', 'h3')), 'PENDING_EXPIRED');
    expect(counters(ledger, 'a')).toEqual([4n, 0n, 0n, 0n]);
  });

  it('commits the following side of a hold with the amount decided, never more than held', () => {
    const ledger = ledgerWith(
      reserve('s1', {
        side: 'credit',
        transfer: spec('h1', 'remote', 'b', 10n, { pending: true }),
      }),
    );
    expectCode(
      run(ledger, { type: 'CommitReservation', sagaId: 's1', amount: 11n }),
      'AMOUNT_EXCEEDS_PENDING',
    );
    expect(run(ledger, { type: 'CommitReservation', sagaId: 's1', amount: 7n })).toMatchObject({
      ok: true,
      events: [{ type: 'ReservationCommitted', amount: 7n }],
    });
    expect(counters(ledger, 'b')).toEqual([0n, 7n, 0n, 0n]);
    expect(ledger.index.transfers.get('h1')).toMatchObject({ state: 'posted', postedAmount: 7n });
  });

  it('checks each leg like a transfer: accounts, currency, limits, overflow', () => {
    const ledger = ledgerWith(
      account('wallet', { debitsMustNotExceedCredits: true }),
      account('credit', { creditsMustNotExceedDebits: true }),
      account('eur', { currency: 'EUR' }),
    );
    expectCode(
      run(ledger, reserve('s1', { side: 'debit', transfer: spec('x1', 'a', 'a', 1n) })),
      'ACCOUNTS_MUST_BE_DIFFERENT',
    );
    expectCode(
      run(ledger, reserve('s2', { side: 'debit', transfer: spec('x2', 'ghost', 'remote', 1n) })),
      'ACCOUNT_NOT_FOUND',
    );
    expectCode(
      run(ledger, reserve('s3', { side: 'debit', transfer: spec('x3', 'eur', 'remote', 1n) })),
      'CURRENCY_MISMATCH',
    );
    expectCode(
      run(ledger, reserve('s4', { side: 'debit', transfer: spec('x4', 'wallet', 'remote', 1n) })),
      'INSUFFICIENT_FUNDS',
    );
    expectCode(
      run(ledger, reserve('s5', { side: 'credit', transfer: spec('x5', 'remote', 'credit', 1n) })),
      'EXCEEDS_DEBITS',
    );
    expectOk(run(ledger, transfer('big', 'b', 'c', AMOUNT_MAX)));
    expectCode(
      run(ledger, reserve('s6', { side: 'debit', transfer: spec('x6', 'b', 'remote', 1n) })),
      'OVERFLOW',
    );
  });

  it('rejects a reservation whose legs overdraw an account only together', () => {
    const ledger = ledgerWith(
      account('wallet', { debitsMustNotExceedCredits: true }),
      transfer('fund', 'a', 'wallet', 10n),
    );
    const legs = [6n, 5n].map((amount, index): ReservationLeg => ({
      side: 'debit',
      transfer: spec(`x${index}`, 'wallet', 'remote', amount),
    }));
    const decision = run(ledger, reserve('s1', ...legs));
    expect(decision).toMatchObject({
      ok: false,
      code: 'INSUFFICIENT_FUNDS',
      codes: ['LINKED_TRANSFER_FAILED', 'INSUFFICIENT_FUNDS'],
    });
  });

  it('rejects a reservation whose legs put two different transfers, or one side twice, under one id', () => {
    const ledger = ledgerWith();
    const first = spec('x1', 'a', 'b', 5n);
    const other = spec('x1', 'a', 'c', 6n);
    const twoTransfers = run(
      ledger,
      reserve('s1', { side: 'debit', transfer: first }, { side: 'credit', transfer: other }),
    );
    expectCode(twoTransfers, 'DUPLICATE_ID_IN_GROUP');
    expect(twoTransfers).toMatchObject({
      codes: ['LINKED_TRANSFER_FAILED', 'DUPLICATE_ID_IN_GROUP'],
    });
    expectCode(
      run(
        ledger,
        reserve('s2', { side: 'debit', transfer: first }, { side: 'debit', transfer: first }),
      ),
      'DUPLICATE_ID_IN_GROUP',
    );
  });

  it('commits a reservation with both legs on this shard as one transfer', () => {
    const both = spec('x1', 'a', 'b', 5n);
    const ledger = ledgerWith(
      reserve('s1', { side: 'debit', transfer: both }, { side: 'credit', transfer: both }),
    );
    expectOk(run(ledger, commit('s1')));
    expect(counters(ledger, 'a')).toEqual([5n, 0n, 0n, 0n]);
    expect(counters(ledger, 'b')).toEqual([0n, 5n, 0n, 0n]);
  });
});

describe('decider purity', () => {
  it('never mutates the state it decides on', () => {
    const ledger = ledgerWith(transfer('p1', 'a', 'b', 10n, { pending: true }));
    const before = counters(ledger, 'a').concat(counters(ledger, 'b'));
    const context = ledger.index.context(ledger.state.lastTimestamp + 1n);
    for (const command of [
      transfer('t9', 'a', 'b', 1n),
      group(spec('g1', 'a', 'b', 1n), spec('g2', 'b', 'a', 1n)),
      post('x', 'p1'),
      reserve('s', { side: 'debit', transfer: spec('r', 'a', 'z', 1n) }),
    ]) {
      expect(decide(command, ledger.state, context).ok).toBe(true);
    }
    expect(counters(ledger, 'a').concat(counters(ledger, 'b'))).toEqual(before);
    expect(ledger.state.pending.size).toBe(1);
  });

  it('gives event i of a decision the timestamp context.timestamp + i', () => {
    const ledger = ledgerWith();
    const decision = decide(
      group(spec('g1', 'a', 'b', 1n), spec('g2', 'a', 'b', 1n)),
      ledger.state,
      ledger.index.context(5_000_000_000n),
    );
    expect(decision.ok && decision.events.map((event) => event.timestamp)).toEqual([
      5_000_000_000n,
      5_000_000_001n,
    ]);
  });
});

describe('account status: freeze, unfreeze, close', () => {
  const freeze = (accountId: string): Command => ({ type: 'FreezeAccount', accountId });
  const unfreeze = (accountId: string): Command => ({ type: 'UnfreezeAccount', accountId });
  const close = (accountId: string): Command => ({ type: 'CloseAccount', accountId });
  const flagsOf = (ledger: MemoryLedger, id: string): number | undefined =>
    ledger.state.accounts.get(id)?.flags;

  it('freezes an account, answers exists when it is frozen again, and unfreezes it', () => {
    const ledger = ledgerWith();
    expectOk(run(ledger, freeze('a')), ['AccountFrozen']);
    expect(flagsOf(ledger, 'a')).toBe(accountFlags.frozen);
    expectExists(run(ledger, freeze('a')));
    expectOk(run(ledger, unfreeze('a')), ['AccountUnfrozen']);
    expect(flagsOf(ledger, 'a')).toBe(0);
    expectExists(run(ledger, unfreeze('a')));
  });

  it('refuses any status change of an account that does not exist', () => {
    const ledger = ledgerWith();
    for (const command of [freeze('nobody'), unfreeze('nobody'), close('nobody')])
      expectCode(run(ledger, command), 'ACCOUNT_NOT_FOUND');
  });

  it('refuses a new transfer touching a frozen account on either side, then takes it once unfrozen', () => {
    const ledger = ledgerWith(transfer('t0', 'a', 'b', 10n), freeze('b'));
    expectCode(run(ledger, transfer('t1', 'a', 'b', 1n)), 'ACCOUNT_FROZEN');
    expectCode(run(ledger, transfer('t2', 'b', 'a', 1n)), 'ACCOUNT_FROZEN');
    expectCode(run(ledger, transfer('t3', 'b', 'c', 1n, { pending: true })), 'ACCOUNT_FROZEN');
    const grouped = run(ledger, group(spec('g1', 'a', 'c', 1n), spec('g2', 'c', 'b', 1n)));
    expectCode(grouped, 'ACCOUNT_FROZEN');
    expect(grouped).toMatchObject({ codes: ['LINKED_TRANSFER_FAILED', 'ACCOUNT_FROZEN'] });
    expectOk(run(ledger, transfer('t4', 'a', 'c', 1n)));
    expectOk(run(ledger, unfreeze('b')));
    expectOk(run(ledger, transfer('t1', 'a', 'b', 1n)));
  });

  it('still answers exists for a transfer made before the freeze and sent again', () => {
    const ledger = ledgerWith(transfer('t0', 'a', 'b', 10n), freeze('a'));
    expectExists(run(ledger, transfer('t0', 'a', 'b', 10n)));
  });

  it('voids or expires a hold on an account frozen after it was made, and refuses to post it', () => {
    const ledger = ledgerWith(
      transfer('p1', 'a', 'b', 5n, { pending: true }),
      transfer('p2', 'a', 'b', 6n, { pending: true, timeoutMs: 1 }),
      freeze('b'),
    );
    expectCode(run(ledger, post('x1', 'p1')), 'ACCOUNT_FROZEN');
    expectOk(run(ledger, voidOf('x2', 'p1')), ['PendingTransferVoided']);
    ledger.advance(2n * MS);
    expectOk(run(ledger, expire), ['PendingTransferExpired']);
    expect(counters(ledger, 'a')).toEqual([0n, 0n, 0n, 0n]);
    expect(counters(ledger, 'b')).toEqual([0n, 0n, 0n, 0n]);
  });

  it('closes an account whose posted balance is zero and nothing is pending', () => {
    const ledger = ledgerWith(transfer('t1', 'a', 'b', 7n), transfer('t2', 'b', 'a', 7n));
    expect(counters(ledger, 'b')).toEqual([7n, 7n, 0n, 0n]);
    expectOk(run(ledger, close('b')), ['AccountClosed']);
    expect(flagsOf(ledger, 'b')).toBe(accountFlags.closed);
    expectExists(run(ledger, close('b')));
  });

  it('refuses to close an account with a posted balance or a pending amount on either side', () => {
    const ledger = ledgerWith(transfer('t1', 'a', 'b', 7n));
    expectCode(run(ledger, close('a')), 'ACCOUNT_BALANCE_NOT_ZERO');
    expectCode(run(ledger, close('b')), 'ACCOUNT_BALANCE_NOT_ZERO');
    const held = ledgerWith(transfer('p1', 'a', 'b', 3n, { pending: true }));
    expectCode(run(held, close('a')), 'ACCOUNT_BALANCE_NOT_ZERO');
    expectCode(run(held, close('b')), 'ACCOUNT_BALANCE_NOT_ZERO');
    expectOk(run(held, voidOf('v1', 'p1')));
    expectOk(run(held, close('a')));
  });

  it('refuses every transfer of a closed account, and it is never reopened, frozen or unfrozen', () => {
    const ledger = ledgerWith(freeze('c'), close('c'));
    expect(flagsOf(ledger, 'c')).toBe(accountFlags.closed);
    expectCode(run(ledger, transfer('t1', 'a', 'c', 1n)), 'ACCOUNT_CLOSED');
    expectCode(run(ledger, transfer('t2', 'c', 'a', 1n)), 'ACCOUNT_CLOSED');
    expectCode(run(ledger, freeze('c')), 'ACCOUNT_CLOSED');
    expectCode(run(ledger, unfreeze('c')), 'ACCOUNT_CLOSED');
    expectExists(run(ledger, close('c')));
    // A closed account answers exists to its identical creation: the status is not a field.
    expectExists(run(ledger, account('c')));
  });

  it('refuses a reservation of a saga leg whose account here is frozen or closed', () => {
    const leg = (id: string, side: 'debit' | 'credit'): ReservationLeg => ({
      side,
      transfer: side === 'debit' ? spec(id, 'a', 'remote', 1n) : spec(id, 'remote', 'c', 1n),
    });
    const ledger = ledgerWith(transfer('t0', 'b', 'a', 5n), freeze('a'), close('c'));
    expectCode(run(ledger, reserve('s1', leg('x1', 'debit'))), 'ACCOUNT_FROZEN');
    expectCode(run(ledger, reserve('s2', leg('x2', 'credit'))), 'ACCOUNT_CLOSED');
  });

  it('commits a reservation made before its account was frozen: the saga was already decided', () => {
    const ledger = ledgerWith(transfer('t0', 'b', 'a', 5n));
    const leg: ReservationLeg = { side: 'debit', transfer: spec('x1', 'a', 'remote', 2n) };
    expectOk(run(ledger, reserve('s1', leg)));
    expectCode(run(ledger, { type: 'CloseAccount', accountId: 'a' }), 'ACCOUNT_BALANCE_NOT_ZERO');
    expectOk(run(ledger, freeze('a')));
    expectOk(run(ledger, commit('s1')), ['ReservationCommitted']);
  });

  it('refuses the post of a cross-shard hold whose debit account here was frozen; voids it', () => {
    const hold: ReservationLeg = {
      side: 'debit',
      transfer: spec('h1', 'a', 'remote', 2n, { pending: true }),
    };
    const ledger = ledgerWith(transfer('t0', 'b', 'a', 5n), reserve('s1', hold), freeze('a'));
    const postHold = (id: string): Command => {
      const parsed = parseResolution({ id, pendingId: 'h1' }, true);
      if (!parsed.ok) throw new Error(parsed.code);
      return { type: 'CommitReservation', sagaId: 's1', resolution: parsed.value };
    };
    expectCode(run(ledger, postHold('p1')), 'ACCOUNT_FROZEN');
    const voided = parseResolution({ id: 'v1', pendingId: 'h1' }, false);
    if (!voided.ok) throw new Error(voided.code);
    expectOk(
      run(ledger, {
        type: 'ReleaseReservation',
        sagaId: 's1',
        reason: 'voided',
        resolution: voided.value,
      }),
      ['ReservationReleased'],
    );
  });

  it('keeps the plain fast lane off frozen and closed accounts', () => {
    const ledger = ledgerWith(transfer('t0', 'a', 'b', 5n), freeze('b'));
    const state = ledger.state;
    expect(applyPlainTransfer(state, 'a', 'b', 'USD', 1, 0)).toBe(false);
    expect(applyPlainTransfer(state, 'b', 'a', 'USD', 1, 0)).toBe(false);
    expect(applyPlainTransfer(state, 'a', 'c', 'USD', 1, 0)).toBe(true);
    expect(counters(ledger, 'b')).toEqual([0n, 5n, 0n, 0n]);
  });
});

describe('coverage of the catalogue', () => {
  it('has produced every rejection code the decider can return', () => {
    const validatorOnly = [
      'INVALID_ID',
      'INVALID_CURRENCY',
      'CURRENCY_UNKNOWN',
      'INVALID_FLAGS',
      'INVALID_METADATA',
      'INVALID_AMOUNT',
      'AMOUNT_TOO_PRECISE',
      'INVALID_TIMEOUT',
    ];
    const deciderCodes = Object.entries(errorCatalogue)
      .filter(([code, entry]) => entry.kind === 'rejection' && !validatorOnly.includes(code))
      .map(([code]) => code);
    expect(deciderCodes.filter((code) => !seen.has(code as RejectionCode))).toEqual([]);
  });
});
