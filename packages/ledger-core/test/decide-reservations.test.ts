// Goal: the decider's saga steps on one shard: reserve, commit and release of cross-shard
// legs, holds across shards included. Method: given/when/then on MemoryLedger, no storage.
import { describe, expect, it } from 'vitest';
import { type Command, type ReservationLeg } from '../src/index.js';
import { AMOUNT_MAX } from '../src/limits.js';
import {
  expectCode,
  expectExists,
  expectOk,
  counters,
  ledgerWith,
  run,
} from './fixtures/decide-fixtures.js';
import {
  account,
  commit,
  group,
  release,
  reserve,
  spec,
  transfer,
} from './fixtures/engine-fixtures.js';

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
