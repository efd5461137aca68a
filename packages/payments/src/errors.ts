// The payments error catalogue: one stable SCREAMING_SNAKE code per way a request can be refused,
// with the HTTP status it is answered with. Codes never change once released; docs/payments.md
// lists every one.

export const paymentErrorCatalogue = {
  INVALID_REQUEST: { httpStatus: 400, message: 'the request does not match the route schema' },
  INVALID_AMOUNT: { httpStatus: 400, message: 'an amount is malformed or finer than its currency' },
  PAYLOAD_TOO_LARGE: { httpStatus: 413, message: 'the request body is larger than the limit' },
  IDEMPOTENCY_KEY_INVALID: {
    httpStatus: 400,
    message: 'Idempotency-Key must be 1 to 255 printable ASCII characters',
  },
  IDEMPOTENCY_KEY_REUSED: {
    httpStatus: 422,
    message: 'this Idempotency-Key was used with other parameters',
  },
  IDEMPOTENCY_KEY_IN_USE: {
    httpStatus: 409,
    message: 'a request with this Idempotency-Key is still being processed; retry later',
  },
  CHECKOUT_ID_TAKEN: { httpStatus: 409, message: 'a payment with this checkout_id differs' },
  PAYMENT_ORDER_ID_TAKEN: {
    httpStatus: 409,
    message: 'a payment_order_id is already used by another payment',
  },
  PAYOUT_ID_TAKEN: { httpStatus: 409, message: 'a payout with this payout_id differs' },
  WALLET_NOT_FOUND: { httpStatus: 404, message: 'no wallet has this account and currency' },
  PAYMENT_NOT_FOUND: { httpStatus: 404, message: 'no payment has this checkout_id' },
  PAYOUT_NOT_FOUND: { httpStatus: 404, message: 'no payout has this payout_id' },
  INVALID_STATE: { httpStatus: 409, message: 'the payment is not in a state that allows this' },
  CONNECTOR_UNKNOWN: { httpStatus: 404, message: 'no PSP connector has this name' },
  WEBHOOK_SIGNATURE_INVALID: {
    httpStatus: 401,
    message: 'the webhook signature is missing or does not match the body',
  },
  WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE: {
    httpStatus: 401,
    message: 'the webhook timestamp is too far from now',
  },
  TRANSFER_REJECTED: { httpStatus: 422, message: 'the ledger refused the transfer' },
  ENDPOINT_NOT_FOUND: { httpStatus: 404, message: 'no webhook endpoint has this id' },
  DELIVERY_NOT_FOUND: { httpStatus: 404, message: 'no webhook delivery has this id' },
  RECONCILIATION_NOT_FOUND: { httpStatus: 404, message: 'no reconciliation run has this id' },
  PSP_UNAVAILABLE: { httpStatus: 502, message: 'the PSP did not answer; the call is retried' },
  PSP_REJECTED: { httpStatus: 502, message: 'the PSP refused the call' },
  SERVICE_CLOSING: { httpStatus: 503, message: 'the service is shutting down' },
} as const;

export type PaymentErrorCode = keyof typeof paymentErrorCatalogue;

/** A refused request: a stable code, its HTTP status and a plain detail object. */
export class PaymentError extends Error {
  readonly code: PaymentErrorCode;
  readonly httpStatus: number;
  readonly detail: Record<string, unknown>;

  constructor(code: PaymentErrorCode, detail: Record<string, unknown> = {}) {
    const entry = paymentErrorCatalogue[code];
    super(`${code}: ${entry.message}`);
    this.name = 'PaymentError';
    this.code = code;
    this.httpStatus = entry.httpStatus;
    this.detail = detail;
  }

  /** The JSON body every refused request gets. */
  toBody(): {
    error: { code: PaymentErrorCode; message: string; detail: Record<string, unknown> };
  } {
    return {
      error: {
        code: this.code,
        message: paymentErrorCatalogue[this.code].message,
        detail: this.detail,
      },
    };
  }
}

/** Checks the shape, not `instanceof`, so it works across copies of the package. */
export function isPaymentError(value: unknown, code?: PaymentErrorCode): value is PaymentError {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { name?: unknown; code?: unknown };
  if (candidate.name !== 'PaymentError' || typeof candidate.code !== 'string') return false;
  if (!(candidate.code in paymentErrorCatalogue)) return false;
  return code === undefined || candidate.code === code;
}
