// A private copy of a shard's state built from a snapshot's cut (snapshot-cut.ts), a slice of
// accounts at a time: what verify() compares its replay with. Copying the state whole
// (captureState, then restoreState) stopped the shard's writes for seconds at a million accounts;
// the cut stops them for tens of ms, and the copy is built while the shard goes on.

import { assert } from '../assert.js';
import { AccountOrder, SortedIds } from '../domain/account-order.js';
import { AccountTable } from '../account-table.js';
import { COUNTER_ROW_SHIFT, COUNTER_ROWS_PER_CHUNK, CounterRows } from '../domain/balance.js';
import type { AccountState, LedgerState } from '../domain/state.js';
import type { StateCut } from './snapshot-cut.js';
import { assembleState } from './snapshot-store.js';

/** Accounts copied between two calls of `pause`. */
const accountsPerStep = 4_096;

/** The state `cut` describes, built from it (its rows become the copy's: the cut is spent). */
export async function stateOfCut(cut: StateCut, pause: () => Promise<void>): Promise<LedgerState> {
  const counterRows = new CounterRows();
  for (const row of cut.rows) counterRows.chunks.push(row);
  const accounts = new AccountTable();
  for (let ordinal = 0; ordinal < cut.accounts.length; ordinal += 1) {
    if (ordinal > 0 && ordinal % accountsPerStep === 0) await pause();
    const account = cut.accounts[ordinal] as AccountState;
    assert(account.ordinal === ordinal, 'a cut lists its accounts in ordinal order');
    const values = cut.rows[ordinal >>> COUNTER_ROW_SHIFT];
    assert(values !== undefined, "an account's counters are in the cut's rows");
    const wide = cut.wide.get(ordinal);
    accounts.set(account.id, {
      ...account,
      counters: {
        values,
        at: 4 * (ordinal & (COUNTER_ROWS_PER_CHUNK - 1)),
        wide: wide === undefined ? null : wide.slice(),
      },
    });
  }
  const accountOrder = new AccountOrder();
  for (const [currency, ids] of cut.order)
    accountOrder.byCurrency.set(currency, SortedIds.fromCut(ids));
  return assembleState({ accounts, accountOrder, counterRows }, cut.head);
}
