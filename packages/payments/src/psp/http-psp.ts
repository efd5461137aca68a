// The adapter for the simulated PSP's HTTP API (psp/simulator.ts). Every changing call sends an
// Idempotency-Key derived from our ids, and a timeout: a call that times out is retryable, and
// its retry with the same key is answered from the PSP's stored response.
import { PaymentError } from '../errors.js';
import type { PaymentEvent } from '../payment-machine.js';
import { verifyPspSignature } from '../signing.js';
import { PspRetryableError, type PspAdapter, type PspOutcome, type PspWebhook } from './adapter.js';

export interface HttpPspOptions {
  readonly connector: string;
  readonly baseUrl: string;
  readonly webhookSecret: string;
  readonly timeoutMs: number;
}

type Body = Record<string, unknown>;

function outcomeOf(body: Body): PspOutcome {
  const pspReference = String(body['psp_reference'] ?? '');
  switch (body['status']) {
    case 'authorized':
      return { status: 'authorized', pspReference };
    case 'declined':
      return { status: 'declined', pspReference, reason: String(body['reason'] ?? 'declined') };
    case 'captured':
      return { status: 'captured', pspReference, amount: BigInt(String(body['captured_amount'])) };
    case 'voided':
    case 'refunded':
    case 'pending':
    case 'paid':
    case 'failed':
      return { status: body['status'], pspReference };
    default:
      return { status: 'unknown' };
  }
}

export class HttpPsp implements PspAdapter {
  readonly connector: string;
  readonly #options: HttpPspOptions;

  constructor(options: HttpPspOptions) {
    this.connector = options.connector;
    this.#options = options;
  }

  async #call(options: { method: string; path: string; key?: string; body?: Body }): Promise<Body> {
    let response: Response;
    try {
      response = await fetch(`${this.#options.baseUrl}${options.path}`, {
        method: options.method,
        headers: {
          'content-type': 'application/json',
          ...(options.key === undefined ? {} : { 'idempotency-key': options.key }),
        },
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
    } catch (error) {
      throw new PspRetryableError(`PSP call failed: ${String(error)}`);
    }
    const body = (await response.json().catch(() => ({}))) as Body;
    const inProgress =
      response.status === 409 && body['error'] === 'idempotent_request_in_progress';
    if (
      response.status >= 500 ||
      response.status === 408 ||
      response.status === 429 ||
      inProgress
    ) {
      throw new PspRetryableError(`PSP answered ${response.status}`);
    }
    if (response.status === 404 && options.method === 'GET') return { status: 'unknown' };
    if (response.status >= 400) {
      throw new PaymentError('PSP_REJECTED', { status: response.status, body });
    }
    return body;
  }

  async authorize(request: { reference: string; amount: bigint; currency: string }) {
    const body = { ...request, amount: request.amount.toString() };
    return outcomeOf(
      await this.#call({
        method: 'POST',
        path: '/v1/authorizations',
        key: request.reference,
        body,
      }),
    );
  }

  async capture(request: { reference: string; pspReference: string; amount: bigint }) {
    return outcomeOf(
      await this.#call({
        method: 'POST',
        path: `/v1/authorizations/${request.pspReference}/capture`,
        key: `${request.reference}:capture`,
        body: { amount: request.amount.toString() },
      }),
    );
  }

  async void(request: { reference: string; pspReference: string }) {
    const path = `/v1/authorizations/${request.pspReference}/void`;
    return outcomeOf(await this.#call({ method: 'POST', path, key: `${request.reference}:void` }));
  }

  async refund(request: { reference: string; pspReference: string; amount: bigint }) {
    return outcomeOf(
      await this.#call({
        method: 'POST',
        path: `/v1/authorizations/${request.pspReference}/refund`,
        key: `${request.reference}:refund`,
        body: { amount: request.amount.toString() },
      }),
    );
  }

  async createPayout(request: {
    reference: string;
    amount: bigint;
    currency: string;
    destination: string;
  }) {
    const body = { ...request, amount: request.amount.toString() };
    return outcomeOf(
      await this.#call({ method: 'POST', path: '/v1/payouts', key: request.reference, body }),
    );
  }

  async getStatus(reference: string) {
    const path = `/v1/operations/${encodeURIComponent(reference)}`;
    return outcomeOf(await this.#call({ method: 'GET', path }));
  }

  verifyWebhook(request: { rawBody: string; headers: Record<string, unknown>; nowMs: number }) {
    verifyPspSignature({
      secret: this.#options.webhookSecret,
      header: request.headers['psp-signature'],
      body: request.rawBody,
      nowMs: request.nowMs,
    });
  }

  translateWebhook(rawBody: string): PspWebhook {
    const body = JSON.parse(rawBody) as { id: string; type: string; data: Body };
    const reference = String(body.data['reference']);
    const pspReference = String(body.data['psp_reference']);
    if (body.type === 'payout.paid' || body.type === 'payout.failed') {
      const outcome = body.type === 'payout.paid' ? 'paid' : 'failed';
      return { eventId: body.id, kind: 'payout', reference, outcome };
    }
    const event = paymentEventOf(body.type, { reference, pspReference, data: body.data });
    if (event === undefined) return { eventId: body.id, kind: 'ignored' };
    return { eventId: body.id, kind: 'order', reference, event };
  }

  async fetchSettlement(date: string): Promise<string> {
    const body = await this.#call({ method: 'GET', path: `/v1/settlements/${date}` });
    return String(body['csv']);
  }
}

function paymentEventOf(
  type: string,
  options: { reference: string; pspReference: string; data: Body },
): PaymentEvent | undefined {
  const orderId = options.reference;
  switch (type) {
    case 'payment.authorized':
      return { type: 'authorized', orderId, pspReference: options.pspReference };
    case 'payment.captured':
      return {
        type: 'captured',
        orderId,
        amount: BigInt(String(options.data['captured_amount'])),
        pspReference: options.pspReference,
      };
    case 'payment.declined':
      return { type: 'declined', orderId, reason: String(options.data['reason'] ?? 'declined') };
    case 'payment.voided':
      return { type: 'voided', orderId };
    case 'payment.refunded':
      return { type: 'refunded', orderId };
    default:
      return undefined;
  }
}
