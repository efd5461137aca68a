// What the payments service needs from a payment service provider (PSP). One adapter per
// connector; the service never speaks a PSP's wire format itself. Every call that changes
// something carries an idempotency key, so a retried call happens once at the PSP.
import type { PaymentEvent } from '../payment-machine.js';

export interface PspAmount {
  readonly amount: bigint;
  readonly currency: string;
}

export interface AuthorizeRequest extends PspAmount {
  /** Our payment order id: the PSP's merchant reference and the idempotency key. */
  readonly reference: string;
}

export type PspOutcome =
  | { readonly status: 'authorized'; readonly pspReference: string }
  | { readonly status: 'declined'; readonly pspReference: string; readonly reason: string }
  | { readonly status: 'captured'; readonly pspReference: string; readonly amount: bigint }
  | { readonly status: 'voided' | 'refunded' | 'pending'; readonly pspReference: string }
  | { readonly status: 'paid' | 'failed'; readonly pspReference: string }
  | { readonly status: 'unknown' };

export interface PayoutRequest extends PspAmount {
  /** Our payout id: the merchant reference and the idempotency key. */
  readonly reference: string;
  readonly destination: string;
}

/** A webhook translated into our vocabulary: which payment order or payout, and what happened. */
export type PspWebhook =
  | {
      readonly eventId: string;
      readonly kind: 'order';
      readonly reference: string;
      readonly event: PaymentEvent;
    }
  | {
      readonly eventId: string;
      readonly kind: 'payout';
      readonly reference: string;
      readonly outcome: 'paid' | 'failed';
    }
  | { readonly eventId: string; readonly kind: 'ignored' };

export interface PspAdapter {
  readonly connector: string;
  authorize(request: AuthorizeRequest): Promise<PspOutcome>;
  capture(request: {
    reference: string;
    pspReference: string;
    amount: bigint;
  }): Promise<PspOutcome>;
  void(request: { reference: string; pspReference: string }): Promise<PspOutcome>;
  refund(request: { reference: string; pspReference: string; amount: bigint }): Promise<PspOutcome>;
  createPayout(request: PayoutRequest): Promise<PspOutcome>;
  /** What the PSP knows about a merchant reference (after a timeout, to learn the outcome). */
  getStatus(reference: string): Promise<PspOutcome>;
  /** Checks the signature over the raw body; throws a PaymentError when it does not hold. */
  verifyWebhook(request: {
    rawBody: string;
    headers: Record<string, unknown>;
    nowMs: number;
  }): void;
  translateWebhook(rawBody: string): PspWebhook;
  /** The settlement file of a day (UTC, YYYY-MM-DD), as CSV text. */
  fetchSettlement(date: string): Promise<string>;
}

/** A PSP call failed in a way that may succeed later (timeout, 5xx, connection refused). */
export class PspRetryableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PspRetryableError';
  }
}
