// Goal: the decider applies an atomic group whole or not at all, with a code per member.
// Method: given/when/then on MemoryLedger, no storage.
import { describe, expect, it } from 'vitest';
import {
  expectCode,
  expectExists,
  expectOk,
  counters,
  ledgerWith,
  run,
} from './fixtures/decide-fixtures.js';
import { account, group, post, spec, transfer } from './fixtures/engine-fixtures.js';

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
