// For tests and tools of this repository: pieces below the public API. May change any release.
export {
  signPspPayload,
  verifyPspSignature,
  standardWebhookHeaders,
  newEndpointSecret,
} from './signing.js';
export { RuleBook, seededRandom } from './psp/sim-rules.js';
export { settlementCsv, settlementLine, settlementFileName } from './psp/settlement.js';
export { requestHash, withIdempotency, checkIdempotencyKey } from './http/idempotency.js';
export { backoffMs, enqueueJob, listJobs, JobRunner } from './job-queue.js';
export {
  runPaymentsBench,
  paymentsBenchReport,
  paymentsBenchScenarios,
  type PaymentsBenchOptions,
  type PaymentsBenchResult,
  type PaymentsBenchScenario,
} from './bench/run-payments-bench.js';
