// decide(command, state, context) -> events | rejection. Pure: no I/O, clock or randomness; the
// timestamp and the on-disk id index come in through `context`. Never mutates `state`.
// Event i of a decision gets timestamp context.timestamp + i. Each kind of command is decided in
// its own room: transfers (transfer-decider.ts), holds (resolution-decider.ts) and saga steps
// (reservation-decider.ts); an account's status (account-decider.ts); accounts here.

import { assertNever } from '../assert.js';
import { decideAccountStatus } from './account-decider.js';
import { accepted, EXISTS, rejection } from './decision.js';
import { decideCommit, decideRelease, decideReserve } from './reservation-decider.js';
import { decideExpiry, decideResolution } from './resolution-decider.js';
import type { LedgerState } from './state.js';
import { decideCreateTransfer, decideTransferGroup } from './transfer-decider.js';
import {
  accountStatusFlags,
  type AccountSpec,
  type Command,
  type Decision,
  type DecideContext,
} from './types.js';
import { metadataEqual } from './validate.js';

export function decide(command: Command, state: LedgerState, context: DecideContext): Decision {
  switch (command.type) {
    case 'CreateAccount':
      return decideCreateAccount(command.account, state, context);
    case 'FreezeAccount':
    case 'UnfreezeAccount':
    case 'CloseAccount':
      return decideAccountStatus(command, state, context);
    case 'CreateTransfer':
      return decideCreateTransfer(command.transfer, state, context);
    case 'CreateTransferGroup':
      return decideTransferGroup(command.transfers, state, context);
    case 'PostPendingTransfer':
      return decideResolution(command.resolution, 'post', state, context);
    case 'VoidPendingTransfer':
      return decideResolution(command.resolution, 'void', state, context);
    case 'ExpirePendingTransfers':
      return decideExpiry(state, context);
    case 'ReserveFunds':
      return decideReserve(command, state, context);
    case 'CommitReservation':
      return decideCommit(command, state, context);
    case 'ReleaseReservation':
      return decideRelease(command, state, context);
    default:
      return assertNever(command, 'command');
  }
}

function decideCreateAccount(
  spec: AccountSpec,
  state: LedgerState,
  context: DecideContext,
): Decision {
  const existing = state.accounts.get(spec.id);
  if (existing !== undefined) {
    const same =
      existing.currency === spec.currency &&
      // The status (frozen, closed) is not part of what was created.
      (existing.flags & ~accountStatusFlags) === spec.flags &&
      metadataEqual(existing.metadata, spec.metadata);
    return same ? EXISTS : rejection('EXISTS_WITH_DIFFERENT_FIELDS', 'account');
  }
  return accepted([{ type: 'AccountCreated', timestamp: context.timestamp, account: spec }]);
}
