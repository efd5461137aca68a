// An account as the API returns it: its counters read out, its flags as booleans, and the
// balances derived from them.

import {
  readCounter,
  CREDITS_PENDING,
  CREDITS_POSTED,
  DEBITS_PENDING,
  DEBITS_POSTED,
} from '../domain/balance.js';
import type { AccountState } from '../domain/state.js';
import { accountFlags, accountStatusOf } from '../domain/types.js';
import type { AccountView } from './engine-types.js';

export function accountView(account: AccountState): AccountView {
  const counters = account.counters;
  const debitsPosted = readCounter(counters, DEBITS_POSTED);
  const creditsPosted = readCounter(counters, CREDITS_POSTED);
  const debitsPending = readCounter(counters, DEBITS_PENDING);
  return {
    id: account.id,
    currency: account.currency,
    scale: account.scale,
    debitsMustNotExceedCredits: (account.flags & accountFlags.debitsMustNotExceedCredits) !== 0,
    creditsMustNotExceedDebits: (account.flags & accountFlags.creditsMustNotExceedDebits) !== 0,
    history: (account.flags & accountFlags.history) !== 0,
    status: accountStatusOf(account.flags),
    metadata: account.metadata,
    timestamp: account.timestamp,
    debitsPosted,
    creditsPosted,
    debitsPending,
    creditsPending: readCounter(counters, CREDITS_PENDING),
    balance: creditsPosted - debitsPosted,
    available: creditsPosted - debitsPosted - debitsPending,
  };
}
