// How payments move money in the Ledger. Every transfer id is derived from the payment order id
// (or payout id), so replaying a step after a crash answers `exists` instead of moving money
// twice. Accounts: `psp:<connector>:<CUR>` (the PSP's clearing account: the outside world, may go
// negative), `wallet:<seller>:<CUR>` (a seller's wallet, never overdrawn), `fees:<CUR>`.
import { isLedgerError, type Ledger, type TransferInput } from '@shardledger/shard-router';
import { assert } from '@shardledger/ledger-core/internals';
import { PaymentError } from './errors.js';
import type { LedgerBatcher } from './ledger-batcher.js';
import type { LedgerStep } from './payment-machine.js';
import type { OrderRecord, PaymentRecord } from './store.js';

export const accountIds = {
  clearing: (connector: string, currency: string) => `psp:${connector}:${currency}`,
  wallet: (owner: string, currency: string) => `wallet:${owner}:${currency}`,
  fees: (currency: string) => `fees:${currency}`,
} as const;

/** The fee the platform keeps from an amount, in basis points, rounded down. */
export function feeOf(amount: bigint, feeBps: number): bigint {
  const fee = (amount * BigInt(feeBps)) / 10_000n;
  assert(fee >= 0n, 'a fee is never negative');
  assert(fee <= amount, 'a fee never exceeds its amount');
  return fee;
}

/** Statuses that mean the step already took effect (or cannot, harmlessly). */
const settledStatuses: Record<LedgerStep, ReadonlySet<string>> = {
  hold: new Set(['ok', 'exists']),
  post: new Set(['ok', 'exists', 'pending_already_posted']),
  void: new Set(['ok', 'exists', 'pending_already_voided', 'pending_expired', 'pending_not_found']),
  reverse: new Set(['ok', 'exists']),
};

/** Creates accounts once per process; the ledger answers `exists` for those already there.
 * Concurrent callers needing the same account share one createAccounts call. */
export class AccountCache {
  readonly #calls: LedgerBatcher;
  /** `true` once the ledger holds the account; the call creating it while that is under way. */
  readonly #known = new Map<string, true | Promise<void>>();

  constructor(calls: LedgerBatcher) {
    this.#calls = calls;
  }

  ensure(accounts: readonly { id: string; currency: string; wallet: boolean }[]): Promise<void> {
    const waits: Promise<void>[] = [];
    const missing = new Map<string, { id: string; currency: string; wallet: boolean }>();
    for (const account of accounts) {
      const known = this.#known.get(account.id);
      if (known === true) continue;
      if (known === undefined) missing.set(account.id, account);
      else waits.push(known);
    }
    if (missing.size > 0) {
      const created = this.#create([...missing.values()]);
      for (const id of missing.keys()) this.#known.set(id, created);
      waits.push(created);
    }
    return waits.length === 0 ? Promise.resolve() : Promise.all(waits).then(() => undefined);
  }

  async #create(missing: readonly { id: string; currency: string; wallet: boolean }[]) {
    try {
      const results = await this.#calls.createAccounts(
        missing.map((account) => ({
          id: account.id,
          currency: account.currency,
          ...(account.wallet ? { debitsMustNotExceedCredits: true } : {}),
        })),
      );
      results.forEach((result) => {
        if (result.status !== 'ok' && result.status !== 'exists') {
          throw new PaymentError('TRANSFER_REJECTED', {
            account: result.id,
            status: result.status,
          });
        }
      });
      for (const account of missing) this.#known.set(account.id, true);
    } catch (error) {
      for (const account of missing) this.#known.delete(account.id);
      throw error;
    }
  }
}

interface Leg {
  readonly suffix: string;
  readonly creditAccountId: string;
  readonly held: bigint;
  readonly posted: bigint;
}

/** The two legs of an order: the seller's share and the platform's fee. A zero leg is skipped. */
function legsOf(payment: PaymentRecord, order: OrderRecord): Leg[] {
  const capturedFee =
    order.capturedAmount === order.amount
      ? order.fee
      : (order.fee * order.capturedAmount) / order.amount;
  const legs: Leg[] = [
    {
      suffix: '',
      creditAccountId: accountIds.wallet(order.sellerAccount, payment.currency),
      held: order.amount - order.fee,
      posted: order.capturedAmount - capturedFee,
    },
    {
      suffix: 'fee-',
      creditAccountId: accountIds.fees(payment.currency),
      held: order.fee,
      posted: capturedFee,
    },
  ];
  for (const leg of legs) {
    assert(leg.posted <= leg.held, 'a leg never posts more than it holds');
    assert(leg.posted >= 0n, 'a posted leg is never negative');
  }
  return legs.filter((leg) => leg.held > 0n);
}

function holdTransfers(payment: PaymentRecord, holdTimeoutMs: number): TransferInput[] {
  const clearing = accountIds.clearing(payment.connector, payment.currency);
  return payment.orders.flatMap((order) =>
    legsOf(payment, order).map((leg) => ({
      id: `po:${order.id}:${leg.suffix}hold`,
      debitAccountId: clearing,
      creditAccountId: leg.creditAccountId,
      amount: leg.held,
      currency: payment.currency,
      pending: true,
      timeoutMs: holdTimeoutMs,
    })),
  );
}

/** Places the holds of a payment: one atomic group when its accounts share a shard; otherwise
 * each hold alone (a group may not hold across shards), voiding the others if one is refused. */
export async function placeHolds(ledger: Ledger, transfers: TransferInput[]): Promise<string[]> {
  const shards = new Set(transfers.flatMap((t) => [t.debitAccountId, t.creditAccountId]));
  const oneShard = new Set([...shards].map((id) => ledger.shardOf(id))).size === 1;
  if (oneShard) return (await ledger.createAtomicGroup(transfers)).map((result) => result.status);
  const results = await ledger.createTransfers(transfers);
  const statuses = results.map((result) => result.status);
  if (statuses.every((status) => settledStatuses.hold.has(status))) return statuses;
  await ledger.voidPendingTransfers(
    transfers.map((transfer) => ({ id: `${transfer.id}:undo`, pendingId: transfer.id })),
  );
  return statuses;
}

/** A payment's holds, joined with those of concurrent payments into one createTransfers call.
 * Not one atomic group per payment: a batch of many payments is one ledger call, where a group
 * would be one call each. If a hold is refused (a frozen wallet, say), those placed are voided,
 * as for holds across shards; a crash in between leaves them to the payment's void step or to
 * their own timeout. */
async function placeBatchedHolds(
  calls: LedgerBatcher,
  transfers: TransferInput[],
): Promise<string[]> {
  const statuses = (await calls.createTransfers(transfers)).map((result) => result.status);
  if (statuses.every((status) => settledStatuses.hold.has(status))) return statuses;
  await calls.voidPendingTransfers(
    transfers.map((transfer) => ({ id: `${transfer.id}:undo`, pendingId: transfer.id })),
  );
  return statuses;
}

function postInputs(payment: PaymentRecord) {
  return payment.orders.flatMap((order) =>
    legsOf(payment, order).map((leg) => ({
      id: `po:${order.id}:${leg.suffix}post`,
      pendingId: `po:${order.id}:${leg.suffix}hold`,
      amount: leg.posted,
    })),
  );
}

function reverseTransfers(payment: PaymentRecord): TransferInput[] {
  const clearing = accountIds.clearing(payment.connector, payment.currency);
  return payment.orders.flatMap((order) =>
    legsOf(payment, order)
      .filter((leg) => leg.posted > 0n)
      .map((leg) => ({
        id: `po:${order.id}:${leg.suffix}refund`,
        debitAccountId: leg.creditAccountId,
        creditAccountId: clearing,
        amount: leg.posted,
        currency: payment.currency,
      })),
  );
}

async function runStep(
  calls: LedgerBatcher,
  payment: PaymentRecord,
  step: LedgerStep,
  holdTimeoutMs: number,
): Promise<string[]> {
  switch (step) {
    case 'hold':
      return placeBatchedHolds(calls, holdTransfers(payment, holdTimeoutMs));
    case 'post': {
      // A zero capture posts nothing: the hold is voided instead.
      const inputs = postInputs(payment);
      const posts = inputs.filter((input) => input.amount > 0n);
      const voids = inputs.filter((input) => input.amount === 0n);
      const [posted, voided] = await Promise.all([
        calls.postPendingTransfers(posts),
        calls.voidPendingTransfers(
          voids.map((input) => ({ id: input.id, pendingId: input.pendingId })),
        ),
      ]);
      return [...posted, ...voided].map((result) => result.status);
    }
    case 'void': {
      const inputs = holdTransfers(payment, holdTimeoutMs).map((transfer) => ({
        id: transfer.id.replace(/hold$/, 'void'),
        pendingId: transfer.id,
      }));
      return (await calls.voidPendingTransfers(inputs)).map((result) => result.status);
    }
    case 'reverse':
      return (await calls.createTransfers(reverseTransfers(payment))).map((r) => r.status);
  }
}

/** Makes the ledger agree with the payment's status by replaying each step it calls for. */
export async function applyLedgerSteps(
  calls: LedgerBatcher,
  payment: PaymentRecord,
  options: { steps: readonly LedgerStep[]; holdTimeoutMs: number },
): Promise<void> {
  for (const step of options.steps) {
    const statuses = await runStep(calls, payment, step, options.holdTimeoutMs);
    const refused = statuses.filter((status) => !settledStatuses[step].has(status));
    if (refused.length > 0) {
      throw new PaymentError('TRANSFER_REJECTED', { payment: payment.id, step, statuses });
    }
  }
}

export function isRetryableLedgerError(error: unknown): boolean {
  return isLedgerError(error) && error.retryable;
}
