// The payment state machine, pure: no clock, no I/O. A payment's orders move forward only
// (none -> authorized -> captured | declined | voided -> refunded), so a duplicate or late event
// changes nothing; the payment's status follows from its orders, and each status names the
// ledger state that must hold for it (see ledgerStepsFor).
import { assert } from '@shardledger/ledger-core/internals';

/** A payment as a client asks for it (PaymentService.create). */
export interface NewPayment {
  readonly checkoutId: string;
  readonly buyerId: string | null;
  readonly connector: string;
  readonly currency: string;
  readonly captureMethod: 'automatic' | 'manual';
  readonly expiresInMs: number;
  readonly orders: readonly { id: string; sellerAccount: string; amount: bigint }[];
}

export const paymentStatuses = [
  'NOT_STARTED',
  'EXECUTING',
  'SUCCESS',
  'FAILED',
  'REFUNDED',
  'EXPIRED',
] as const;
export type PaymentStatus = (typeof paymentStatuses)[number];

export const orderStatuses = [
  'none',
  'authorized',
  'captured',
  'declined',
  'voided',
  'refunded',
] as const;
export type OrderStatus = (typeof orderStatuses)[number];

/** How far along an order is. An event never moves an order to an equal or lower rank. */
const orderRank: Record<OrderStatus, number> = {
  none: 0,
  authorized: 1,
  captured: 2,
  declined: 2,
  voided: 2,
  refunded: 3,
};

export interface OrderState {
  readonly id: string;
  readonly amount: bigint;
  readonly status: OrderStatus;
  readonly capturedAmount: bigint;
  readonly pspReference: string | null;
}

export interface PaymentState {
  readonly id: string;
  readonly status: PaymentStatus;
  readonly orders: readonly OrderState[];
  readonly failureReason: string | null;
}

/** What the PSP (by answer or webhook) or the clock says happened. */
export type PaymentEvent =
  | { readonly type: 'started' }
  | { readonly type: 'authorized'; readonly orderId: string; readonly pspReference: string }
  | {
      readonly type: 'captured';
      readonly orderId: string;
      readonly amount: bigint;
      readonly pspReference: string;
    }
  | { readonly type: 'declined'; readonly orderId: string; readonly reason: string }
  | { readonly type: 'voided'; readonly orderId: string }
  | { readonly type: 'refunded'; readonly orderId: string }
  | { readonly type: 'expired' };

const terminal: ReadonlySet<PaymentStatus> = new Set(['FAILED', 'REFUNDED', 'EXPIRED']);

export function isTerminal(status: PaymentStatus): boolean {
  return terminal.has(status);
}

function withOrder(state: PaymentState, orderId: string, next: Partial<OrderState>): PaymentState {
  const index = state.orders.findIndex((order) => order.id === orderId);
  if (index < 0) return state;
  const current = state.orders[index]!;
  if (next.status !== undefined && orderRank[next.status] <= orderRank[current.status]) {
    return state; // a duplicate or an event that arrived after a later one: absorbed
  }
  const orders = state.orders.slice();
  orders[index] = { ...current, ...next };
  return { ...state, orders };
}

function orderUpdate(state: PaymentState, event: PaymentEvent): PaymentState {
  switch (event.type) {
    case 'authorized':
      return withOrder(state, event.orderId, {
        status: 'authorized',
        pspReference: event.pspReference,
      });
    case 'captured': {
      const order = state.orders.find((candidate) => candidate.id === event.orderId);
      if (order === undefined) return state;
      assert(event.amount >= 1n, 'a capture moves at least one minor unit');
      assert(event.amount <= order.amount, 'a capture never exceeds the authorised amount');
      return withOrder(state, event.orderId, {
        status: 'captured',
        capturedAmount: event.amount,
        pspReference: event.pspReference,
      });
    }
    case 'declined': {
      const next = withOrder(state, event.orderId, { status: 'declined' });
      return next === state ? state : { ...next, failureReason: event.reason };
    }
    case 'voided':
      return withOrder(state, event.orderId, { status: 'voided' });
    case 'refunded':
      return withOrder(state, event.orderId, { status: 'refunded' });
    default:
      return state;
  }
}

/** The status a payment's orders call for, from the status it has. */
function statusFor(state: PaymentState): PaymentStatus {
  const statuses = state.orders.map((order) => order.status);
  if (state.status === 'NOT_STARTED') return state.status;
  if (state.status === 'EXECUTING') {
    if (statuses.some((status) => status === 'declined' || status === 'voided')) return 'FAILED';
    if (statuses.every((status) => status === 'captured' || status === 'refunded')) {
      return 'SUCCESS';
    }
    return 'EXECUTING';
  }
  if (state.status === 'SUCCESS' && statuses.every((status) => status === 'refunded')) {
    return 'REFUNDED';
  }
  return state.status;
}

/** Applies one event; the same event twice, or a stale one, returns the state unchanged. */
export function evolvePayment(state: PaymentState, event: PaymentEvent): PaymentState {
  if (event.type === 'started') {
    return state.status === 'NOT_STARTED' ? { ...state, status: 'EXECUTING' } : state;
  }
  if (event.type === 'expired') {
    if (state.status !== 'EXECUTING' && state.status !== 'NOT_STARTED') return state;
    return { ...state, status: 'EXPIRED', failureReason: 'expired' };
  }
  if (isTerminal(state.status)) {
    // Only what the PSP releases is recorded on the orders of a finished payment.
    return event.type === 'voided' || event.type === 'refunded' ? orderUpdate(state, event) : state;
  }
  const updated = orderUpdate(state, event);
  const status = statusFor(updated);
  assert(
    status === updated.status || !isTerminal(updated.status),
    'a terminal payment never changes status',
  );
  return status === updated.status ? updated : { ...updated, status };
}

/** The ledger steps, in order, that make the ledger agree with a status. Every step is
 * idempotent (deterministic transfer ids), so the list is replayed whole after a crash. */
export type LedgerStep = 'hold' | 'post' | 'void' | 'reverse';

export function ledgerStepsFor(status: PaymentStatus): readonly LedgerStep[] {
  switch (status) {
    case 'NOT_STARTED':
      return [];
    case 'EXECUTING':
      return ['hold'];
    case 'SUCCESS':
      return ['hold', 'post'];
    case 'FAILED':
    case 'EXPIRED':
      return ['void'];
    case 'REFUNDED':
      return ['hold', 'post', 'reverse'];
  }
}
