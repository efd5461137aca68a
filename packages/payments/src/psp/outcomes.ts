// PSP answers as payment events: one event per order whose call was answered; a call that
// failed produces none, and its error is raised after the answered ones are applied.
import { assert } from '@shardledger/ledger-core/internals';
import type { PaymentEvent } from '../payment-machine.js';
import type { PspOutcome } from './adapter.js';

function eventOf(orderId: string, outcome: PspOutcome): PaymentEvent | undefined {
  switch (outcome.status) {
    case 'authorized':
      return { type: 'authorized', orderId, pspReference: outcome.pspReference };
    case 'declined':
      return { type: 'declined', orderId, reason: outcome.reason };
    case 'captured':
      return {
        type: 'captured',
        orderId,
        amount: outcome.amount,
        pspReference: outcome.pspReference,
      };
    case 'voided':
      return { type: 'voided', orderId };
    case 'refunded':
      return { type: 'refunded', orderId };
    default:
      return undefined;
  }
}

export function eventsOf(
  orderIds: readonly string[],
  outcomes: PromiseSettledResult<PspOutcome>[],
) {
  assert(orderIds.length === outcomes.length, 'one outcome per order');
  const events: PaymentEvent[] = [];
  outcomes.forEach((outcome, index) => {
    if (outcome.status !== 'fulfilled') return;
    const event = eventOf(orderIds[index]!, outcome.value);
    if (event !== undefined) events.push(event);
  });
  return events;
}

export function rethrowFirst(outcomes: PromiseSettledResult<unknown>[]): void {
  const failed = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
}
