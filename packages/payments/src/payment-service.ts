// The payment service: binds each payment's state machine to the ledger and to a PSP.
// Order of writes, for every transition: the new status is committed to the store (with its
// outbox message and `ledger_synced = 0`), then the ledger steps the status calls for are
// replayed (idempotent ids), then `ledger_synced = 1`. A crash anywhere leaves a payment whose
// ledger steps are replayed at the next start, so the two always end in agreement.
import type { Ledger } from '@shardledger/shard-router';
import { assert } from '@shardledger/ledger-core/internals';
import { PaymentError } from './errors.js';
import { accountIds, AccountCache, applyLedgerSteps, feeOf } from './ledger-binding.js';
import { enqueueJob } from './job-queue.js';
import { LedgerBatcher } from './ledger-batcher.js';
import {
  evolvePayment,
  isTerminal,
  ledgerStepsFor,
  type LedgerStep,
  type NewPayment,
  type PaymentEvent,
  type PaymentState,
} from './payment-machine.js';
import { PspRetryableError, type PspAdapter } from './psp/adapter.js';
import { eventsOf, rethrowFirst } from './psp/outcomes.js';
import {
  appendOutbox,
  expiredPaymentIds,
  insertPayment,
  markLedgerSynced,
  openPaymentIds,
  paymentIdOfOrder,
  readPayment,
  storeDurable,
  transact,
  unsyncedIds,
  writePayment,
  type Db,
  type OrderRecord,
  type PaymentRecord,
} from './store.js';

export interface PaymentServiceOptions {
  readonly ledger: Ledger;
  readonly db: Db;
  readonly adapters: ReadonlyMap<string, PspAdapter>;
  /** The platform's fee on each payment order, in basis points. */
  readonly feeBps: number;
  /** How long a ledger hold outlives its payment's expiry: a backstop for a service that is
   * down when the payment expires (the expiry sweep voids holds on time while it runs). */
  readonly holdGraceMs: number;
}

export class PaymentService {
  readonly ledger: Ledger;
  readonly db: Db;
  readonly accounts: AccountCache;
  /** The ledger calls of concurrent payments, joined per turn of the event loop. */
  readonly ledgerCalls: LedgerBatcher;
  readonly #options: PaymentServiceOptions;
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(options: PaymentServiceOptions) {
    this.#options = options;
    this.ledger = options.ledger;
    this.db = options.db;
    this.ledgerCalls = new LedgerBatcher(options.ledger);
    this.accounts = new AccountCache(this.ledgerCalls);
  }

  adapter(connector: string): PspAdapter {
    const adapter = this.#options.adapters.get(connector);
    if (adapter === undefined) throw new PaymentError('CONNECTOR_UNKNOWN', { connector });
    return adapter;
  }

  /** Runs `work` after every earlier call for the same payment: one transition at a time. */
  async #serial<T>(id: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(id) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    this.#locks.set(id, settled);
    void settled.then(() => {
      if (this.#locks.get(id) === settled) this.#locks.delete(id);
    });
    return next;
  }

  /** Stores a new payment (NOT_STARTED), or returns the one stored for this checkout id when
   * the request is the same: a double click without an Idempotency-Key moves money once. */
  create(input: NewPayment, requestHash: string, nowMs: number): PaymentRecord {
    this.adapter(input.connector);
    assert(input.orders.length >= 1, 'a payment has at least one order');
    assert(input.expiresInMs >= 1, 'a payment expires after it is created');
    const record: PaymentRecord = {
      id: input.checkoutId,
      buyerId: input.buyerId,
      connector: input.connector,
      currency: input.currency,
      captureMethod: input.captureMethod,
      status: 'NOT_STARTED',
      failureReason: null,
      requestHash,
      expiresAtMs: nowMs + input.expiresInMs,
      ledgerSynced: true,
      createdAtMs: nowMs,
      updatedAtMs: nowMs,
      orders: input.orders.map((order) => ({
        id: order.id,
        sellerAccount: order.sellerAccount,
        amount: order.amount,
        fee: feeOf(order.amount, this.#options.feeBps),
        status: 'none',
        capturedAmount: 0n,
        pspReference: null,
      })),
    };
    return transact(this.db, () => {
      const existing = readPayment(this.db, record.id);
      if (existing !== undefined) {
        if (existing.requestHash !== requestHash) {
          throw new PaymentError('CHECKOUT_ID_TAKEN', { checkout_id: record.id });
        }
        return existing;
      }
      for (const order of record.orders) {
        const owner = paymentIdOfOrder(this.db, order.id);
        if (owner !== undefined) {
          throw new PaymentError('PAYMENT_ORDER_ID_TAKEN', { payment_order_id: order.id });
        }
      }
      insertPayment(this.db, record);
      enqueueJob(this.db, { kind: 'drive', subject: record.id, atMs: nowMs + 1_000 });
      return record;
    });
  }

  get(id: string): PaymentRecord {
    const payment = readPayment(this.db, id);
    if (payment === undefined) throw new PaymentError('PAYMENT_NOT_FOUND', { checkout_id: id });
    return payment;
  }

  #holdTimeoutMs(payment: PaymentRecord): number {
    return payment.expiresAtMs - payment.createdAtMs + this.#options.holdGraceMs;
  }

  /** Replays the ledger steps of a payment's status, then marks it in agreement. */
  async #syncLedger(payment: PaymentRecord, done: readonly LedgerStep[] = []): Promise<void> {
    if (payment.ledgerSynced) return;
    // The status that calls for these steps is committed first (the store commits a turn at a
    // time): a crash after a step always leaves its status to replay it from.
    await storeDurable(this.db);
    const currency = payment.currency;
    await this.accounts.ensure([
      { id: accountIds.clearing(payment.connector, currency), currency, wallet: false },
      { id: accountIds.fees(currency), currency, wallet: false },
      ...payment.orders.map((order) => ({
        id: accountIds.wallet(order.sellerAccount, currency),
        currency,
        wallet: true,
      })),
    ]);
    await applyLedgerSteps(this.ledgerCalls, payment, {
      steps: ledgerStepsFor(payment.status).filter((step) => !done.includes(step)),
      holdTimeoutMs: this.#holdTimeoutMs(payment),
    });
    markLedgerSynced(this.db, 'payments', payment.id);
  }

  /** Applies events to a payment in one store transaction (with a dedup marker, when given, so
   * a webhook is applied exactly once), then brings the ledger along. */
  async #apply(
    id: string,
    events: readonly PaymentEvent[],
    dedup?: () => boolean,
  ): Promise<PaymentRecord> {
    const nowMs = Date.now();
    // The payment as written, and the steps the ledger already holds: those of the previous
    // status, when it was synced. The record is built from what was written rather than read
    // back: every transition of a payment runs under #serial, so nothing else changed it.
    const { payment, done } = transact(this.db, () => {
      if (dedup !== undefined && !dedup()) return { payment: this.get(id), done: [] };
      const before = this.get(id);
      let state: PaymentState = before;
      for (const event of events) state = evolvePayment(state, event);
      if (state === before) return { payment: before, done: [] };
      const statusChanged = state.status !== before.status;
      writePayment(this.db, state, { nowMs, statusChanged });
      if (statusChanged) {
        const payload = { checkout_id: id, status: state.status };
        appendOutbox(
          this.db,
          {
            id: `msg:${id}:${state.status}`,
            type: `payment.${state.status.toLowerCase()}`,
            payload,
          },
          nowMs,
        );
      }
      return {
        payment: written(before, state, { nowMs, statusChanged }),
        done: statusChanged && before.ledgerSynced ? ledgerStepsFor(before.status) : [],
      };
    });
    if (payment.ledgerSynced) return payment;
    await this.#syncLedger(payment, done);
    return { ...payment, ledgerSynced: true };
  }

  /** Moves a payment as far as it can go now: hold, authorise every order, capture (when
   * automatic). Every PSP call is keyed by the order id, so running this again, after a
   * timeout or a crash, repeats nothing. Throws PspRetryableError when the PSP did not answer. */
  drive(id: string): Promise<PaymentRecord> {
    return this.#serial(id, async () => {
      let payment = await this.#apply(id, [{ type: 'started' }]);
      if (payment.status !== 'EXECUTING') return payment;
      const psp = this.adapter(payment.connector);
      const outcomes = await Promise.allSettled(
        payment.orders
          .filter((order) => order.status === 'none')
          .map((order) =>
            psp.authorize({
              reference: order.id,
              amount: order.amount,
              currency: payment.currency,
            }),
          ),
      );
      const pending = payment.orders.filter((order) => order.status === 'none');
      payment = await this.#apply(
        id,
        eventsOf(
          pending.map((order) => order.id),
          outcomes,
        ),
      );
      if (payment.status === 'FAILED') return this.#voidAuthorized(payment);
      if (payment.captureMethod === 'automatic') payment = await this.#captureAll(payment);
      rethrowFirst(outcomes);
      return payment;
    });
  }

  async #captureAll(payment: PaymentRecord): Promise<PaymentRecord> {
    if (payment.status !== 'EXECUTING') return payment;
    if (
      payment.orders.some((order) => order.status !== 'authorized' && order.status !== 'captured')
    ) {
      return payment; // not every order is authorised yet
    }
    const psp = this.adapter(payment.connector);
    const toCapture = payment.orders.filter((order) => order.status === 'authorized');
    const outcomes = await Promise.allSettled(
      toCapture.map((order) =>
        psp.capture({
          reference: order.id,
          pspReference: order.pspReference!,
          amount: order.amount,
        }),
      ),
    );
    const next = await this.#apply(
      payment.id,
      eventsOf(
        toCapture.map((o) => o.id),
        outcomes,
      ),
    );
    rethrowFirst(outcomes);
    return next;
  }

  /** A failed or expired payment releases what the PSP still holds for its other orders. */
  async #voidAuthorized(payment: PaymentRecord): Promise<PaymentRecord> {
    const psp = this.adapter(payment.connector);
    const held = payment.orders.filter((order) => order.status === 'authorized');
    const outcomes = await Promise.allSettled(
      held.map((order) => psp.void({ reference: order.id, pspReference: order.pspReference! })),
    );
    const next = await this.#apply(
      payment.id,
      eventsOf(
        held.map((o) => o.id),
        outcomes,
      ),
    );
    rethrowFirst(outcomes);
    return next;
  }

  /** Captures a payment made with capture_method `manual`. */
  capture(id: string): Promise<PaymentRecord> {
    return this.#serial(id, async () => {
      const payment = this.get(id);
      if (payment.status !== 'EXECUTING')
        throw new PaymentError('INVALID_STATE', { status: payment.status });
      return this.#captureAll(payment);
    });
  }

  /** Refunds every captured order of a successful payment; the ledger reverses the postings. */
  refund(id: string): Promise<PaymentRecord> {
    return this.#serial(id, async () => {
      const payment = this.get(id);
      if (payment.status === 'REFUNDED') return payment;
      if (payment.status !== 'SUCCESS')
        throw new PaymentError('INVALID_STATE', { status: payment.status });
      const psp = this.adapter(payment.connector);
      const captured = payment.orders.filter((order) => order.status === 'captured');
      const outcomes = await Promise.allSettled(
        captured.map((order) =>
          psp.refund({
            reference: order.id,
            pspReference: order.pspReference!,
            amount: order.capturedAmount,
          }),
        ),
      );
      const next = await this.#apply(
        id,
        eventsOf(
          captured.map((o) => o.id),
          outcomes,
        ),
      );
      rethrowFirst(outcomes);
      return next;
    });
  }

  /** A webhook's event, applied once: the dedup marker is written with the new state. */
  applyWebhook(options: {
    connector: string;
    eventId: string;
    reference: string;
    event: PaymentEvent;
    remember: () => boolean;
  }): Promise<PaymentRecord | undefined> {
    const id = paymentIdOfOrder(this.db, options.reference);
    if (id === undefined) return Promise.resolve(undefined);
    return this.#serial(id, () => this.#apply(id, [options.event], options.remember));
  }

  /** Expires the payments whose time is up: the ledger voids their holds, the PSP voids its
   * authorisations. Returns the ids expired. */
  async expireDue(nowMs: number): Promise<string[]> {
    const ids = expiredPaymentIds(this.db, nowMs);
    for (const id of ids) {
      await this.#serial(id, async () => {
        const payment = await this.#apply(id, [{ type: 'expired' }]);
        if (payment.status === 'EXPIRED')
          await this.#voidAuthorized(payment).catch(() => undefined);
      });
    }
    return ids;
  }

  /** After a restart: replay the ledger steps of every payment that was mid-transition, and
   * queue every payment still open so its PSP calls are retried (with the same keys). */
  async recover(nowMs: number): Promise<{ synced: number; queued: number }> {
    const unsynced = unsyncedIds(this.db, 'payments');
    for (const id of unsynced) await this.#serial(id, () => this.#syncLedger(this.get(id)));
    const open = openPaymentIds(this.db);
    transact(this.db, () => {
      for (const id of open) enqueueJob(this.db, { kind: 'drive', subject: id, atMs: nowMs });
    });
    return { synced: unsynced.length, queued: open.length };
  }
}

/** A payment record after `state` was written over `before` (see writePayment). */
function written(
  before: PaymentRecord,
  state: PaymentState,
  options: { nowMs: number; statusChanged: boolean },
): PaymentRecord {
  assert(state.orders.length === before.orders.length, 'events never add or drop orders');
  // evolvePayment spreads each order it changes, so an order keeps its seller and fee.
  const orders = state.orders as readonly OrderRecord[];
  for (const order of orders)
    assert(order.sellerAccount !== undefined, 'an order keeps its seller');
  return {
    ...before,
    status: state.status,
    failureReason: state.failureReason,
    orders,
    updatedAtMs: options.nowMs,
    ledgerSynced: options.statusChanged ? false : before.ledgerSynced,
  };
}

export function isRetryable(error: unknown): boolean {
  return error instanceof PspRetryableError;
}
export { isTerminal };
