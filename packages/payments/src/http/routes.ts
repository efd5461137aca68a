// The payment routes: pay-in, pay-out, wallet transfers and balances, PSP webhooks.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { formatAmount } from '@shardledger/shard-router';
import { PaymentError } from '../errors.js';
import { accountIds } from '../ledger-binding.js';
import { enqueueJob } from '../job-queue.js';
import { rememberWebhook } from '../store.js';
import type { Services } from './app.js';
import { checkIdempotencyKey, requestHash, withIdempotency } from './idempotency.js';
import * as schemas from './schemas.js';
import { minorUnits, paymentView, payoutView } from './views.js';
import type { RouteTable } from './openapi.js';

type Body = Record<string, unknown>;
type OrderBody = {
  payment_order_id: string;
  seller_account: string;
  amount: string;
  currency: string;
};

function idempotent(
  services: Services,
  request: FastifyRequest,
  work: () => Promise<{ statusCode: number; body: unknown }>,
) {
  const key = checkIdempotencyKey(request.headers['idempotency-key']);
  const hash = requestHash(`${request.method} ${request.url}`, request.body);
  return withIdempotency(services.service.db, { key, hash }, work);
}

/** POST /v1/payments: checks what the schema cannot, stores the payment, runs it. */
async function createPayment(services: Services, request: FastifyRequest) {
  const { service, defaults } = services;
  const body = request.body as Body & { payment_orders: OrderBody[] };
  const currency = body.payment_orders[0]!.currency;
  if (body.payment_orders.some((order) => order.currency !== currency)) {
    throw new PaymentError('INVALID_REQUEST', {
      reason: 'every payment order has one currency',
    });
  }
  const ids = new Set(body.payment_orders.map((order) => order.payment_order_id));
  if (ids.size !== body.payment_orders.length) {
    throw new PaymentError('INVALID_REQUEST', { reason: 'payment_order_id repeated' });
  }
  const orders = body.payment_orders.map((order, index) => ({
    id: order.payment_order_id,
    sellerAccount: order.seller_account,
    amount: minorUnits(order.amount, currency, `payment_orders[${index}].amount`),
  }));
  return idempotent(services, request, async () => {
    const created = service.create(
      {
        checkoutId: String(body['checkout_id']),
        buyerId: (body['buyer_id'] as string | undefined) ?? null,
        connector: (body['connector'] as string | undefined) ?? defaults.connector,
        currency,
        captureMethod:
          (body['capture_method'] as 'automatic' | 'manual' | undefined) ?? 'automatic',
        expiresInMs: (body['expires_in_ms'] as number | undefined) ?? defaults.expiresInMs,
        orders,
      },
      requestHash('payment', body),
      Date.now(),
    );
    const payment = await service.drive(created.id).catch((error: unknown) => {
      if (services.isRetryable(error)) return service.get(created.id); // the queue retries
      throw error;
    });
    return { statusCode: 201, body: paymentView(payment) };
  });
}

export function paymentRoutes(app: FastifyInstance, services: Services, table: RouteTable): void {
  const { service } = services;

  table.add(
    app,
    {
      method: 'POST',
      url: '/v1/payments',
      summary: 'Create and run a payment',
      schema: { body: schemas.createPaymentBody },
    },
    (request) => createPayment(services, request),
  );

  table.add(
    app,
    {
      method: 'GET',
      url: '/v1/payments/:checkout_id',
      summary: 'Read a payment',
      schema: { params: schemas.checkoutParams },
    },
    async (request) => {
      const { checkout_id } = request.params as { checkout_id: string };
      return { statusCode: 200, body: paymentView(service.get(checkout_id)), replayed: false };
    },
  );

  for (const action of ['capture', 'refund'] as const) {
    table.add(
      app,
      {
        method: 'POST',
        url: `/v1/payments/:checkout_id/${action}`,
        summary: `${action === 'capture' ? 'Capture' : 'Refund'} a payment`,
        schema: { params: schemas.checkoutParams },
      },
      async (request) => {
        const { checkout_id } = request.params as { checkout_id: string };
        return idempotent(services, request, async () => {
          const payment = await service[action](checkout_id);
          return { statusCode: 200, body: paymentView(payment) };
        });
      },
    );
  }

  payoutRoutes(app, services, table);
  walletRoutes(app, services, table);
  webhookInRoute(app, services, table);
}

function payoutRoutes(app: FastifyInstance, services: Services, table: RouteTable): void {
  const { payouts, defaults } = services;
  table.add(
    app,
    {
      method: 'POST',
      url: '/v1/payouts',
      summary: 'Pay a seller out',
      schema: { body: schemas.createPayoutBody },
    },
    async (request) => {
      const body = request.body as Record<string, string>;
      const amount = minorUnits(body['amount']!, body['currency']!, 'amount');
      return idempotent(services, request, async () => {
        const payout = await payouts.create(
          {
            id: body['payout_id']!,
            connector: body['connector'] ?? defaults.connector,
            sellerAccount: body['seller_account']!,
            amount,
            currency: body['currency']!,
            destination: body['destination']!,
          },
          requestHash('payout', body),
        );
        return { statusCode: 201, body: payoutView(payout) };
      });
    },
  );

  table.add(
    app,
    {
      method: 'GET',
      url: '/v1/payouts/:payout_id',
      summary: 'Read a payout',
      schema: { params: schemas.payoutParams },
    },
    async (request) => {
      const { payout_id } = request.params as { payout_id: string };
      return { statusCode: 200, body: payoutView(payouts.get(payout_id)), replayed: false };
    },
  );
}

function walletRoutes(app: FastifyInstance, services: Services, table: RouteTable): void {
  const { service } = services;
  table.add(
    app,
    {
      method: 'POST',
      url: '/v1/wallet/balance_transfer',
      summary: 'Move money between wallets, once per transaction_id',
      schema: { body: schemas.balanceTransferBody },
    },
    async (request) => {
      const body = request.body as Record<string, string>;
      const currency = body['currency']!;
      const amount = minorUnits(body['amount']!, currency, 'amount');
      const from = accountIds.wallet(body['from_account']!, currency);
      const to = accountIds.wallet(body['to_account']!, currency);
      if (from === to)
        throw new PaymentError('INVALID_REQUEST', { reason: 'from_account equals to_account' });
      await service.accounts.ensure([
        { id: from, currency, wallet: true },
        { id: to, currency, wallet: true },
      ]);
      const result = await service.ledger.createTransfer({
        id: `wt:${body['transaction_id']}`,
        debitAccountId: from,
        creditAccountId: to,
        amount,
        currency,
      });
      if (result.status !== 'ok' && result.status !== 'exists') {
        throw new PaymentError('TRANSFER_REJECTED', { status: result.status });
      }
      return {
        statusCode: 200,
        body: { transaction_id: body['transaction_id'], status: result.status },
        replayed: false,
      };
    },
  );

  table.add(
    app,
    {
      method: 'GET',
      url: '/v1/wallet/:account/balance',
      summary: "A wallet's balance",
      schema: { params: schemas.balanceParams, querystring: schemas.balanceQuery },
    },
    async (request) => {
      const { account } = request.params as { account: string };
      const { currency } = request.query as { currency: string };
      const [wallet] = await service.ledger.lookupAccounts([accountIds.wallet(account, currency)]);
      if (wallet === undefined) throw new PaymentError('WALLET_NOT_FOUND', { account, currency });
      return {
        statusCode: 200,
        body: {
          account,
          currency,
          balance: formatAmount(wallet.balance, wallet.scale),
          available: formatAmount(wallet.available, wallet.scale),
          pending_in: formatAmount(wallet.creditsPending, wallet.scale),
          pending_out: formatAmount(wallet.debitsPending, wallet.scale),
        },
        replayed: false,
      };
    },
  );
}

function webhookInRoute(app: FastifyInstance, services: Services, table: RouteTable): void {
  const { service, payouts } = services;
  table.add(
    app,
    {
      method: 'POST',
      url: '/v1/webhooks/psp/:connector',
      summary: 'Receive a PSP webhook (HMAC-signed)',
      schema: { params: schemas.connectorParams, body: schemas.webhookBody },
    },
    async (request) => {
      const { connector } = request.params as { connector: string };
      const psp = service.adapter(connector);
      const rawBody = (request as FastifyRequest & { rawBody?: string }).rawBody ?? '';
      psp.verifyWebhook({ rawBody, headers: request.headers, nowMs: Date.now() });
      let webhook;
      try {
        webhook = psp.translateWebhook(rawBody);
      } catch {
        throw new PaymentError('INVALID_REQUEST', { reason: 'webhook body not understood' });
      }
      const remember = () =>
        rememberWebhook(service.db, { connector, eventId: webhook.eventId, nowMs: Date.now() });
      if (webhook.kind === 'order') {
        const payment = await service.applyWebhook({
          connector,
          eventId: webhook.eventId,
          reference: webhook.reference,
          event: webhook.event,
          remember,
        });
        if (payment?.status === 'EXECUTING')
          enqueueJob(service.db, { kind: 'drive', subject: payment.id, atMs: Date.now() });
      } else if (webhook.kind === 'payout') {
        await payouts.settle(webhook.reference, webhook.outcome);
        remember();
      }
      return { statusCode: 200, body: { received: true }, replayed: false };
    },
  );
}
