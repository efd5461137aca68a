// Decider rules, given/when/then against the pure core: no storage involved.
import { describe, expect, it } from 'vitest';
import { parseAccount, parseTransfer, type Command } from '../src/index.js';
import { givenWhen } from '../src/testing.js';

function account(id: string, extra: Record<string, unknown> = {}): Command {
  const parsed = parseAccount({ id, currency: 'USD', ...extra });
  if (!parsed.ok) throw new Error(parsed.code);
  return { type: 'CreateAccount', account: parsed.value };
}

function transfer(id: string, debit: string, credit: string, amount: bigint, extra: Record<string, unknown> = {}): Command {
  const parsed = parseTransfer({ id, debitAccountId: debit, creditAccountId: credit, amount, currency: 'USD', ...extra });
  if (!parsed.ok) throw new Error(parsed.code);
  return { type: 'CreateTransfer', transfer: parsed.value };
}

describe('decide', () => {
  it('creates a transfer between two existing accounts', () => {
    const { decision } = givenWhen({ given: [account('a'), account('b')], when: transfer('t1', 'a', 'b', 10n) });
    expect(decision.ok).toBe(true);
    if (decision.ok) expect(decision.events.map((event) => event.type)).toEqual(['TransferCreated']);
  });

  it('rejects a transfer that would overdraw a debitsMustNotExceedCredits account', () => {
    const { decision } = givenWhen({
      given: [account('wallet', { debitsMustNotExceedCredits: true }), account('shop')],
      when: transfer('t1', 'wallet', 'shop', 1n),
    });
    expect(decision).toMatchObject({ ok: false, code: 'INSUFFICIENT_FUNDS' });
  });
});
