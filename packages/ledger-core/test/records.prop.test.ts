// Goal: closedRecordsOf (a closed saga's records built from its reservation) equals what
// indexWritesOf's updates make of the records FundsReserved wrote. Method: fast-check, seed 42.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  parseAccount,
  parseTransfer,
  type LedgerEvent,
  type ReservationLeg,
  type TransferRecord,
} from '../src/index.js';
import { closedRecordsOf, indexWritesOf } from '../src/domain/records.js';
import { initialState } from '../src/domain/state.js';
import { evolve } from '../src/domain/evolve.js';
import { accountView } from '../src/storage/account-view.js';

const legArb = fc.record({
  id: fc.constantFrom('t-1', 't-2', 't-3', 't-é'),
  side: fc.constantFrom('debit', 'credit') as fc.Arbitrary<'debit' | 'credit'>,
  amount: fc.bigInt({ min: 1n, max: 2n ** 128n - 1n }),
  metadata: fc.option(
    fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), fc.string({ maxLength: 6 }), {
      maxKeys: 2,
    }),
    { nil: undefined },
  ),
});

/** Legs as a reservation holds them: a transfer id appears once per side at most, with one spec. */
function legsOf(
  raw: {
    id: string;
    side: 'debit' | 'credit';
    amount: bigint;
    metadata: Record<string, string> | undefined;
  }[],
): ReservationLeg[] {
  const legs: ReservationLeg[] = [];
  for (const item of raw) {
    const earlier = legs.find((leg) => leg.transfer.id === item.id);
    if (
      earlier !== undefined &&
      (earlier.side === item.side || legs.filter((leg) => leg.transfer.id === item.id).length > 1)
    )
      continue;
    const parsed = parseTransfer({
      id: item.id,
      debitAccountId: 'a',
      creditAccountId: 'b',
      amount: item.amount,
      currency: 'USD',
      metadata: item.metadata,
    });
    if (!parsed.ok) continue;
    legs.push({
      side: item.side,
      transfer: earlier === undefined ? parsed.value : earlier.transfer,
    });
  }
  return legs;
}

describe('closedRecordsOf', () => {
  it('equals the reserve records with the new state, one per transfer id, in leg order', () => {
    fc.assert(
      fc.property(
        fc.array(legArb, { minLength: 1, maxLength: 5 }),
        fc.bigInt({ min: 1n, max: 2n ** 62n }),
        fc.boolean(),
        (raw, timestamp, commit) => {
          const legs = legsOf(raw);
          if (legs.length === 0) return;
          const state = initialState();
          for (const [index, id] of ['a', 'b'].entries()) {
            const account = parseAccount({ id, currency: 'USD' });
            if (!account.ok) throw new Error('account fixture');
            evolve(state, {
              type: 'AccountCreated',
              timestamp: BigInt(index + 1),
              account: account.value,
            });
          }
          const reserved: LedgerEvent = {
            type: 'FundsReserved',
            timestamp: timestamp + 2n,
            sagaId: 's~1',
            participants: [0, 1],
            legs,
          };
          const records = new Map<string, TransferRecord>(
            indexWritesOf(reserved).transfers.map((record) => [record.id, record]),
          );
          evolve(state, reserved);
          const reservation = state.reservations.get('s~1');
          if (reservation === undefined) throw new Error('reservation open');
          const closing: LedgerEvent = commit
            ? { type: 'ReservationCommitted', timestamp: timestamp + 3n, sagaId: 's~1', legs }
            : {
                type: 'ReservationReleased',
                timestamp: timestamp + 3n,
                sagaId: 's~1',
                legs,
                reason: 'test',
              };
          const expected = indexWritesOf(closing).updates.map(({ id, change }) => ({
            ...(records.get(id) as TransferRecord),
            ...change,
          }));
          expect(closedRecordsOf(reservation, closing)).toEqual(expected);
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });

  it('for a cross-shard hold: posted with the amount posted, voided, expired or released, and the post or void record', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 2n, max: 2n ** 62n }),
        fc.constantFrom('debit', 'credit') as fc.Arbitrary<'debit' | 'credit'>,
        fc.constantFrom('post-all', 'post-part', 'follow-part', 'voided', 'expired', 'refused'),
        (amount, side, closingKind) => {
          const parsed = parseTransfer({
            id: 'h-1',
            debitAccountId: 'a',
            creditAccountId: 'b',
            amount,
            currency: 'USD',
            pending: true,
            timeoutMs: 5,
          });
          if (!parsed.ok) throw new Error('hold fixture');
          const legs: ReservationLeg[] = [{ side, transfer: parsed.value }];
          const state = initialState();
          for (const [index, id] of ['a', 'b'].entries()) {
            const account = parseAccount({ id, currency: 'USD' });
            if (!account.ok) throw new Error('account fixture');
            evolve(state, {
              type: 'AccountCreated',
              timestamp: BigInt(index + 1),
              account: account.value,
            });
          }
          const reserved: LedgerEvent = {
            type: 'FundsReserved',
            timestamp: 10n,
            sagaId: 's~1',
            participants: [0, 1],
            legs,
          };
          const records = new Map<string, TransferRecord>(
            indexWritesOf(reserved).transfers.map((record) => [record.id, record]),
          );
          expect(records.get('h-1')?.state).toBe('pending');
          evolve(state, reserved);
          const reservation = state.reservations.get('s~1');
          if (reservation === undefined) throw new Error('reservation open');
          const resolution = { id: 'r-1', metadata: null };
          const part = amount - 1n;
          const closing: LedgerEvent =
            closingKind === 'post-all'
              ? { type: 'ReservationCommitted', timestamp: 11n, sagaId: 's~1', legs, resolution }
              : closingKind === 'post-part'
                ? {
                    type: 'ReservationCommitted',
                    timestamp: 11n,
                    sagaId: 's~1',
                    legs,
                    amount: part,
                    resolution,
                  }
                : closingKind === 'follow-part'
                  ? {
                      type: 'ReservationCommitted',
                      timestamp: 11n,
                      sagaId: 's~1',
                      legs,
                      amount: part,
                    }
                  : {
                      type: 'ReservationReleased',
                      timestamp: 11n,
                      sagaId: 's~1',
                      legs,
                      reason: closingKind,
                      ...(closingKind === 'voided' ? { resolution } : {}),
                    };
          const writes = indexWritesOf(closing);
          const expected = writes.updates.map(({ id, change }) => ({
            ...(records.get(id) as TransferRecord),
            ...change,
          }));
          expect(closedRecordsOf(reservation, closing)).toEqual(expected);
          const [closed] = expected;
          const wantState =
            closingKind.startsWith('post') || closingKind === 'follow-part'
              ? 'posted'
              : closingKind === 'refused'
                ? 'released'
                : closingKind;
          expect(closed?.state).toBe(wantState);
          expect(closed?.postedAmount).toBe(
            wantState === 'posted' ? (closingKind === 'post-all' ? amount : part) : null,
          );
          const made = writes.transfers;
          if (
            closingKind === 'post-all' ||
            closingKind === 'post-part' ||
            closingKind === 'voided'
          ) {
            expect(made).toHaveLength(1);
            expect(made[0]).toMatchObject({
              id: 'r-1',
              kind: closingKind === 'voided' ? 'void' : 'post',
              pendingId: 'h-1',
              amount: closingKind === 'post-part' ? part : amount,
            });
          } else {
            expect(made).toEqual([]);
          }
          // The hold's counters: nothing pending after it closes; posted only what was posted.
          evolve(state, closing);
          const account = state.accounts.get(side === 'debit' ? 'a' : 'b');
          const posted = wantState === 'posted' ? (closingKind === 'post-all' ? amount : part) : 0n;
          expect(account === undefined ? undefined : accountView(account)).toMatchObject(
            side === 'debit'
              ? { debitsPending: 0n, debitsPosted: posted }
              : { creditsPending: 0n, creditsPosted: posted },
          );
        },
      ),
      { seed: 43, numRuns: 200 },
    );
  });
});
