// A PSP adapter that answers in this process at once: every authorisation and capture succeeds
// with the full amount. The in-process payments bench uses it so that its figure is the payments
// service and the ledger alone, with no PSP latency or HTTP client in it. Not for production.
import { PaymentError } from '../errors.js';
import type { PspAdapter, PspOutcome } from '../psp/adapter.js';

export class InstantPsp implements PspAdapter {
  readonly connector: string;

  constructor(connector: string) {
    this.connector = connector;
  }

  authorize(request: { reference: string }): Promise<PspOutcome> {
    return Promise.resolve({ status: 'authorized', pspReference: `psp_${request.reference}` });
  }

  capture(request: { pspReference: string; amount: bigint }): Promise<PspOutcome> {
    const { pspReference, amount } = request;
    return Promise.resolve({ status: 'captured', pspReference, amount });
  }

  void(request: { pspReference: string }): Promise<PspOutcome> {
    return Promise.resolve({ status: 'voided', pspReference: request.pspReference });
  }

  refund(request: { pspReference: string }): Promise<PspOutcome> {
    return Promise.resolve({ status: 'refunded', pspReference: request.pspReference });
  }

  createPayout(request: { reference: string }): Promise<PspOutcome> {
    return Promise.resolve({ status: 'paid', pspReference: `psp_${request.reference}` });
  }

  getStatus(): Promise<PspOutcome> {
    return Promise.resolve({ status: 'unknown' });
  }

  verifyWebhook(): void {
    throw new PaymentError('WEBHOOK_SIGNATURE_INVALID', { reason: 'the instant PSP sends none' });
  }

  translateWebhook(): never {
    throw new PaymentError('WEBHOOK_SIGNATURE_INVALID', { reason: 'the instant PSP sends none' });
  }

  fetchSettlement(): Promise<string> {
    return Promise.resolve('');
  }
}
