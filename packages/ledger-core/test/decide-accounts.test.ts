// Goal: the decider's account rules: creation, resubmission, freeze, unfreeze and close, and what
// a frozen or closed account refuses. Method: given/when/then on MemoryLedger, no storage.
import { describe, expect, it } from 'vitest';
import { accountFlags, parseResolution, type Command, type ReservationLeg } from '../src/index.js';
import { applyPlainTransfer } from '../src/domain/plain-transfer.js';
import { givenWhen, MemoryLedger } from '../src/testing.js';
import {
  expectCode,
  expectExists,
  expectOk,
  counters,
  expire,
  ledgerWith,
  run,
} from './fixtures/decide-fixtures.js';
import {
  account,
  commit,
  group,
  MS,
  post,
  reserve,
  spec,
  transfer,
  voidPending,
} from './fixtures/engine-fixtures.js';

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
    expectOk(run(ledger, voidPending('x2', 'p1')), ['PendingTransferVoided']);
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
    expectOk(run(held, voidPending('v1', 'p1')));
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
