// The HTTP API on Fastify: every route has a JSON schema (validated before any handler runs, so
// a bad request writes nothing), every refusal is a typed error body, and the raw body of each
// JSON request is kept for webhook signatures. Types are never coerced: "12" is not 12.
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { isLedgerError } from '@shardledger/shard-router';
import { PaymentError, isPaymentError } from '../errors.js';
import type { Payouts } from '../payouts.js';
import type { PaymentService } from '../payment-service.js';
import type { Endpoints } from '../webhooks-out.js';
import { adminRoutes } from './admin-routes.js';
import { RouteTable } from './openapi.js';
import { reconciliationRoutes } from './reconciliation-routes.js';
import { paymentRoutes } from './routes.js';
import { storeDurable } from '../store.js';

export const httpLimits = {
  bodySizeBytesMax: 64 * 1024,
  requestTimeoutMs: 30_000,
} as const;

export interface Services {
  readonly service: PaymentService;
  readonly payouts: Payouts;
  readonly endpoints: Endpoints;
  readonly isRetryable: (error: unknown) => boolean;
  readonly defaults: { readonly connector: string; readonly expiresInMs: number };
  readonly version: string;
}

function toPaymentError(error: FastifyError | Error): PaymentError {
  if (isPaymentError(error)) return error;
  const fastifyError = error as FastifyError;
  if (fastifyError.validation !== undefined) {
    return new PaymentError('INVALID_REQUEST', {
      errors: fastifyError.validation.map((issue) => ({
        path: issue.instancePath,
        message: issue.message ?? 'invalid',
      })),
    });
  }
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new PaymentError('PAYLOAD_TOO_LARGE', { limitBytes: httpLimits.bodySizeBytesMax });
  }
  if (isLedgerError(error, 'INVALID_ARGUMENT') || isLedgerError(error, 'CURRENCY_UNKNOWN')) {
    return new PaymentError('INVALID_REQUEST', { reason: error.message });
  }
  if (fastifyError.statusCode !== undefined && fastifyError.statusCode < 500) {
    return new PaymentError('INVALID_REQUEST', { reason: fastifyError.message });
  }
  if (isLedgerError(error, 'LEDGER_CLOSED')) return new PaymentError('SERVICE_CLOSING');
  if (error.name === 'PspRetryableError') return new PaymentError('PSP_UNAVAILABLE');
  throw error;
}

export function createApp(services: Services): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: httpLimits.bodySizeBytesMax,
    requestTimeout: httpLimits.requestTimeoutMs,
    return503OnClosing: true,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    (request as typeof request & { rawBody?: string }).rawBody = body as string;
    parseJson(request, body as string, done);
  });
  app.setErrorHandler((error: FastifyError, _request, reply) => {
    let refusal: PaymentError;
    try {
      refusal = toPaymentError(error);
    } catch {
      return reply
        .code(500)
        .send({ error: { code: 'INTERNAL', message: String(error), detail: {} } });
    }
    return reply.code(refusal.httpStatus).send(refusal.toBody());
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: { code: 'ROUTE_NOT_FOUND', message: 'no such route', detail: { url: request.url } },
    }),
  );
  // An answer is sent only once every write made before it is committed (the store commits a
  // turn of the event loop at a time): nothing a client was told is lost in a crash.
  app.addHook('onSend', async () => {
    await storeDurable(services.service.db);
  });
  const table = new RouteTable();
  paymentRoutes(app, services, table);
  adminRoutes(app, services, table);
  reconciliationRoutes(app, services, table);
  return app;
}
