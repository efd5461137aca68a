// Decisions on an account's status: FreezeAccount, UnfreezeAccount and CloseAccount. Each
// answers `exists` when the account already has the status asked for (as a repeated
// CreateAccount does), so a retry is harmless. A closed account stays closed: it is neither
// frozen, unfrozen nor closed again with an effect.

import { assertNever } from '../assert.js';
import {
  CREDITS_PENDING,
  CREDITS_POSTED,
  DEBITS_PENDING,
  DEBITS_POSTED,
  readCounter,
} from './balance.js';
import { accepted, EXISTS, rejection } from './decision.js';
import type { AccountState, LedgerState } from './state.js';
import { accountFlags, type Command, type Decision, type DecideContext } from './types.js';

type StatusCommand = Extract<
  Command,
  { type: 'FreezeAccount' | 'UnfreezeAccount' | 'CloseAccount' }
>;

/** Whether an account's posted balance and both pending amounts are zero: the one condition of
 * closing it. Its debits and credits posted may be anything, as long as they are equal. */
export function isSettled(account: AccountState): boolean {
  const counters = account.counters;
  return (
    readCounter(counters, DEBITS_POSTED) === readCounter(counters, CREDITS_POSTED) &&
    readCounter(counters, DEBITS_PENDING) === 0n &&
    readCounter(counters, CREDITS_PENDING) === 0n
  );
}

/** The rejection of a transfer, or a post of a hold, that names an account with these flags (of
 * one account, or of both sides OR-ed): closed first, then frozen; null when both are open. */
export function statusRejectionOf(flags: number): 'ACCOUNT_CLOSED' | 'ACCOUNT_FROZEN' | null {
  if ((flags & accountFlags.closed) !== 0) return 'ACCOUNT_CLOSED';
  return (flags & accountFlags.frozen) !== 0 ? 'ACCOUNT_FROZEN' : null;
}

export function decideAccountStatus(
  command: StatusCommand,
  state: LedgerState,
  context: DecideContext,
): Decision {
  const account = state.accounts.get(command.accountId);
  if (account === undefined) return rejection('ACCOUNT_NOT_FOUND', 'account');
  const closed = (account.flags & accountFlags.closed) !== 0;
  const frozen = (account.flags & accountFlags.frozen) !== 0;
  const base = { timestamp: context.timestamp, accountId: command.accountId };
  switch (command.type) {
    case 'CloseAccount':
      if (closed) return EXISTS;
      if (!isSettled(account)) return rejection('ACCOUNT_BALANCE_NOT_ZERO');
      return accepted([{ type: 'AccountClosed', ...base }]);
    case 'FreezeAccount':
      if (closed) return rejection('ACCOUNT_CLOSED');
      return frozen ? EXISTS : accepted([{ type: 'AccountFrozen', ...base }]);
    case 'UnfreezeAccount':
      if (closed) return rejection('ACCOUNT_CLOSED');
      return frozen ? accepted([{ type: 'AccountUnfrozen', ...base }]) : EXISTS;
    default:
      return assertNever(command, 'account status command');
  }
}
