// Goal: a snapshot body encoded a slice at a time, while the state goes on changing between
// slices, describes the state as it was when it was cut: counters, wide (beyond 2^53) counters,
// statuses, holds and the account order. Method: a state built with evolve; between every two
// slices the encoder's pause applies more events (postings on many accounts, one account made
// wide, one frozen, new accounts); the decoded body, restored, is compared with a full copy of
// the state taken at the cut (captureState, what verify() uses). Accounts are stored by column;
// a body whose accounts are stored one record each, as earlier builds wrote it, still restores.
import { describe, expect, it } from 'vitest';
import { evolve } from '../src/domain/evolve.js';
import { initialState, type LedgerState } from '../src/domain/state.js';
import type { LedgerEvent, TransferSpec } from '../src/domain/types.js';
import { cutState, decodeBody, encodeCut, snapshotPackr } from '../src/storage/snapshot-cut.js';
import { captureState, restoreState } from '../src/storage/snapshot-store.js';
import { stateOfCut } from '../src/storage/cut-state.js';
import { auditState, diffStates } from '../src/domain/audit.js';
import { accountView } from '../src/storage/account-view.js';

const accounts = 10_000;
const id = (index: number): string => `acct-${String(index).padStart(6, '0')}`;

function transfer(name: string, debit: number, credit: number, amount: bigint): TransferSpec {
  return {
    id: name,
    debitAccountId: id(debit),
    creditAccountId: id(credit),
    amount,
    currency: 'USD',
    pending: false,
    timeoutMs: 0,
    metadata: null,
  };
}

/** An event without its timestamp (applier stamps it). */
type Unstamped = {
  [Type in LedgerEvent['type']]: Omit<Extract<LedgerEvent, { type: Type }>, 'timestamp'>;
}[LedgerEvent['type']];

/** Applies events with rising timestamps. */
function applier(state: LedgerState): (event: Unstamped) => void {
  let now = state.lastTimestamp + 1_000n;
  return (event) => {
    now += 1n;
    evolve(state, { ...event, timestamp: now } as LedgerEvent);
  };
}

function createAccounts(apply: ReturnType<typeof applier>, from: number, to: number): void {
  for (let index = from; index < to; index += 1) {
    apply({
      type: 'AccountCreated',
      account: { id: id(index), currency: 'USD', scale: 2, flags: 0, metadata: null },
    });
  }
}

/** What a restored state answers, account by account, in a comparable shape. */
function viewOf(state: LedgerState): unknown {
  return {
    accounts: [...state.accounts.values()].map((account) => accountView(account)),
    order: [...state.accountOrder.byCurrency].map(([currency, ids]) => [currency, ids.all()]),
    pending: [...state.pending.values()],
    lastSequence: state.lastSequence,
    lastTimestamp: state.lastTimestamp,
  };
}

/** A state of `accounts` accounts with postings, one account beyond 2^53 and a hold. */
function populated(): { state: LedgerState; apply: ReturnType<typeof applier> } {
  const state = initialState();
  const apply = applier(state);
  // Created in reverse id order, so that ordinal order and id order differ.
  for (let index = accounts - 1; index >= 0; index -= 1) createAccounts(apply, index, index + 1);
  for (let index = 0; index < accounts; index += 1)
    apply({
      type: 'TransferCreated',
      transfer: transfer(`t-${index}`, index, (index * 7 + 1) % accounts, BigInt(1 + index)),
    });
  // One account already beyond 2^53 at the cut.
  apply({ type: 'TransferCreated', transfer: transfer('big', 3, 4, 2n ** 60n) });
  apply({
    type: 'TransferCreated',
    transfer: { ...transfer('hold', 5, 6, 77n), pending: true, timeoutMs: 0 },
  });
  return { state, apply };
}

/** What the shard does between two slices of a cut's encoding or copy: postings on many
 * accounts, one more account made wide, one frozen (the first time), new accounts (at the end
 * of the id order, and in its middle). */
function changeMeanwhile(apply: ReturnType<typeof applier>, pauses: number): void {
  for (let index = 0; index < accounts; index += 97)
    apply({ type: 'TransferCreated', transfer: transfer(`m-${pauses}-${index}`, index, 3, 5n) });
  apply({ type: 'TransferCreated', transfer: transfer(`w-${pauses}`, 8, 9, 2n ** 62n) });
  if (pauses === 1) apply({ type: 'AccountFrozen', accountId: id(10) });
  createAccounts(apply, accounts + pauses * 2, accounts + pauses * 2 + 2);
  apply({
    type: 'AccountCreated',
    account: {
      id: `${id((pauses * 997) % accounts)}-b`,
      currency: 'USD',
      scale: 2,
      flags: 0,
      metadata: null,
    },
  });
}

describe('a snapshot cut, encoded while the state changes', () => {
  it('describes the state as it was at the cut', async () => {
    const { state, apply } = populated();
    const expected = viewOf(restoreState(captureState(state)));

    const cut = cutState(state);
    let pauses = 0;
    const body = await encodeCut(cut, async () => {
      pauses += 1;
      changeMeanwhile(apply, pauses);
    });
    expect(pauses).toBeGreaterThan(2);
    const restored = restoreState(decodeBody(Buffer.concat(body.slices)));
    expect(viewOf(restored)).toEqual(expected);
    // And the state did change meanwhile: the comparison could have failed.
    expect(viewOf(restoreState(captureState(state)))).not.toEqual(expected);
  });

  it("is copied into a state of its own (verify's live copy) as it was at the cut", async () => {
    const { state, apply } = populated();
    const atCut = restoreState(captureState(state));
    const cut = cutState(state);
    let pauses = 0;
    const copy = await stateOfCut(cut, async () => {
      pauses += 1;
      changeMeanwhile(apply, pauses);
    });
    expect(pauses).toBeGreaterThan(1);
    expect(viewOf(copy)).toEqual(viewOf(atCut));
    expect(diffStates(copy, atCut)).toEqual([]);
    expect(auditState(copy)).toEqual([]);
    // The copy is its own: the shard's later changes do not reach it, nor its changes the shard.
    const shardBefore = viewOf(restoreState(captureState(state)));
    changeMeanwhile(applier(copy), 9);
    expect(viewOf(restoreState(captureState(state)))).toEqual(shardBefore);
    expect(diffStates(copy, atCut)).not.toEqual([]);
  });

  it('keeps every field of every account by column, and still reads account records', async () => {
    const state = initialState();
    const apply = applier(state);
    // More than one slice of 4,096; ids with non-ASCII letters, several currencies and scales,
    // flags and metadata on some accounts.
    for (let index = 0; index < 9_000; index += 1) {
      const currency = index % 3 === 0 ? 'EUR' : index % 3 === 1 ? 'USDC/6' : 'JPY';
      apply({
        type: 'AccountCreated',
        account: {
          id: index % 10 === 0 ? `kónto-${index}` : id(index),
          currency,
          scale: currency === 'USDC/6' ? 6 : currency === 'JPY' ? 0 : 2,
          flags: index % 7 === 0 ? 4 : 0,
          metadata: index % 11 === 0 ? { owner: `o-${index}`, note: 'ü' } : null,
        },
      });
    }
    const expected = viewOf(restoreState(captureState(state)));
    const body = await encodeCut(cutState(state), async () => undefined);
    expect(viewOf(restoreState(decodeBody(Buffer.concat(body.slices))))).toEqual(expected);
    // Stored by column: the head, then three account slices of up to 4,096, each one value.
    const values = snapshotPackr.unpackMultiple(Buffer.concat(body.slices)) as unknown[];
    expect(values.slice(1, 4).map((slice) => (slice as { count: number }).count)).toEqual([
      4_096, 4_096, 808,
    ]);
    // The same state as earlier builds stored it: account records, ordinals as numbers.
    const payload = captureState(state);
    const records = payload.accounts.map((account) => ({
      ...account,
      counters: { small: [...account.counters.small], wide: account.counters.wide },
    }));
    const { accounts: _accounts, accountOrder, ...head } = payload;
    const older = Buffer.concat([
      snapshotPackr.pack({ ...head, accounts: records.length, ordered: true }),
      snapshotPackr.pack(records.slice(0, 5_000)),
      snapshotPackr.pack(records.slice(5_000)),
      ...(accountOrder ?? []).map((order) => snapshotPackr.pack(order)),
    ]);
    expect(viewOf(restoreState(decodeBody(older)))).toEqual(expected);
  });
});
