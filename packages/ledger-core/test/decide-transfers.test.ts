// Goal: the decider's single-phase transfer rules, u128 overflow and purity (decide never
// mutates its state). Method: given/when/then on MemoryLedger, no storage.
import { describe, expect, it } from 'vitest';
import { type Command } from '../src/index.js';
import { AMOUNT_MAX } from '../src/limits.js';
import { auditState } from '../src/domain/audit.js';
import { DEBITS_POSTED, readCounter } from '../src/domain/balance.js';
import { decide } from '../src/domain/decide.js';
import { givenWhen } from '../src/testing.js';
import {
  expectCode,
  expectExists,
  expectOk,
  counters,
  ledgerWith,
  run,
} from './fixtures/decide-fixtures.js';
import { account, group, post, reserve, spec, transfer } from './fixtures/engine-fixtures.js';

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
