// @shardledger/payments: payments on the Shardledger Ledger. The service, its HTTP server, the
// PSP adapter interface with the simulated PSP, and the errors it answers with.
export { startPaymentsServer, type ServeOptions, type RunningServer } from './serve.js';
export { PaymentService, type PaymentServiceOptions } from './payment-service.js';
export { Payouts, type PayoutRecord, type PayoutStatus } from './payouts.js';
export { createApp, httpLimits, type Services } from './http/app.js';
export {
  PaymentError,
  isPaymentError,
  paymentErrorCatalogue,
  type PaymentErrorCode,
} from './errors.js';
export {
  evolvePayment,
  ledgerStepsFor,
  paymentStatuses,
  orderStatuses,
  type PaymentStatus,
  type OrderStatus,
  type PaymentEvent,
  type PaymentState,
  type OrderState,
  type LedgerStep,
  type NewPayment,
} from './payment-machine.js';
export {
  PspRetryableError,
  type PspAdapter,
  type PspOutcome,
  type PspWebhook,
  type AuthorizeRequest,
  type PayoutRequest,
} from './psp/adapter.js';
export { HttpPsp, type HttpPspOptions } from './psp/http-psp.js';
export { SimulatedPsp, type SimulatorOptions } from './psp/simulator.js';
export type { SimRule, SimAction, SimOperation } from './psp/sim-rules.js';
export { settlementHeader, type SettlementRecord } from './psp/settlement.js';
export { verifyStandardWebhook } from './signing.js';
export { accountIds, feeOf } from './ledger-binding.js';
export { openStore, type PaymentRecord, type OrderRecord } from './store.js';
export {
  Endpoints,
  WebhookDispatcher,
  deliveryLimits,
  type Endpoint,
  type Delivery,
} from './webhooks-out.js';
export { jobLimits } from './job-queue.js';
