// JSON schemas of the HTTP API, one per route. They are the validation (nothing reaches a
// handler that does not match, and nothing is written) and the source of the OpenAPI document.
// Amounts are decimal strings in major units ("75.00"): never JSON numbers, never floats.

const id = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' } as const;
const currency = { type: 'string', pattern: '^[A-Z]{3}$' } as const;
const amount = { type: 'string', maxLength: 40, pattern: '^[0-9]+(\\.[0-9]+)?$' } as const;

export const errorBody = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        detail: { type: 'object', additionalProperties: true },
      },
      required: ['code', 'message'],
    },
  },
} as const;

export const createPaymentBody = {
  type: 'object',
  additionalProperties: false,
  required: ['checkout_id', 'payment_orders'],
  properties: {
    checkout_id: id,
    buyer_id: id,
    connector: id,
    capture_method: { type: 'string', enum: ['automatic', 'manual'] },
    expires_in_ms: { type: 'integer', minimum: 1_000, maximum: 30 * 24 * 3_600_000 },
    payment_orders: {
      type: 'array',
      minItems: 1,
      maxItems: 64,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['payment_order_id', 'seller_account', 'amount', 'currency'],
        properties: { payment_order_id: id, seller_account: id, amount, currency },
      },
    },
  },
} as const;

export const checkoutParams = {
  type: 'object',
  required: ['checkout_id'],
  properties: { checkout_id: id },
} as const;

export const createPayoutBody = {
  type: 'object',
  additionalProperties: false,
  required: ['payout_id', 'seller_account', 'amount', 'currency', 'destination'],
  properties: {
    payout_id: id,
    seller_account: id,
    amount,
    currency,
    connector: id,
    destination: { type: 'string', minLength: 1, maxLength: 256 },
  },
} as const;

export const payoutParams = {
  type: 'object',
  required: ['payout_id'],
  properties: { payout_id: id },
} as const;

export const balanceTransferBody = {
  type: 'object',
  additionalProperties: false,
  required: ['from_account', 'to_account', 'amount', 'currency', 'transaction_id'],
  properties: { from_account: id, to_account: id, amount, currency, transaction_id: id },
} as const;

export const balanceParams = {
  type: 'object',
  required: ['account'],
  properties: { account: id },
} as const;

export const balanceQuery = {
  type: 'object',
  additionalProperties: false,
  required: ['currency'],
  properties: { currency },
} as const;

export const connectorParams = {
  type: 'object',
  required: ['connector'],
  properties: { connector: id },
} as const;

export const webhookBody = { type: 'object' } as const;

export const createEndpointBody = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: {
    url: { type: 'string', minLength: 1, maxLength: 2048, pattern: '^https?://' },
    event_types: { type: 'array', maxItems: 32, items: { type: 'string', maxLength: 64 } },
    secret: { type: 'string', minLength: 16, maxLength: 256 },
  },
} as const;

export const endpointParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

export const deliveryParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[0-9]{1,15}$' } },
} as const;

export const stateQuery = (states: readonly string[]) =>
  ({
    type: 'object',
    additionalProperties: false,
    properties: { state: { type: 'string', enum: states } },
  }) as const;
