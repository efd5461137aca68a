// Pay-outs: money leaves a seller's wallet for the seller's bank through the PSP. The amount
// and the platform's fee are held in the ledger (pending) before the PSP is asked; the PSP's
// webhook then posts them (paid) or voids them (failed), so a failed pay-out gives the money
// back. Ledger ids derive from the payout id: replays move money once.
import type { TransferInput } from '@shardledger/shard-router';
import { PaymentError } from './errors.js';
import { accountIds, feeOf, placeHolds } from './ledger-binding.js';
import { enqueueJob } from './job-queue.js';
import type { PaymentService } from './payment-service.js';
import {
  appendOutbox,
  markLedgerSynced,
  statement,
  storeDurable,
  transact,
  type Db,
} from './store.js';

export type PayoutStatus = 'NOT_STARTED' | 'EXECUTING' | 'SUCCESS' | 'FAILED';

export interface PayoutRecord {
  readonly id: string;
  readonly connector: string;
  readonly sellerAccount: string;
  readonly amount: bigint;
  readonly fee: bigint;
  readonly currency: string;
  readonly status: PayoutStatus;
  readonly pspReference: string | null;
  readonly requestHash: string;
  readonly ledgerSynced: boolean;
}

interface PayoutRow {
  id: string;
  connector: string;
  seller_account: string;
  amount: string;
  fee: string;
  currency: string;
  status: PayoutStatus;
  psp_reference: string | null;
  request_hash: string;
  ledger_synced: number;
}

export function readPayout(db: Db, id: string): PayoutRecord | undefined {
  const row = statement(db, 'SELECT * FROM payouts WHERE id = ?').get(id) as PayoutRow | undefined;
  if (row === undefined) return undefined;
  return {
    id: row.id,
    connector: row.connector,
    sellerAccount: row.seller_account,
    amount: BigInt(row.amount),
    fee: BigInt(row.fee),
    currency: row.currency,
    status: row.status,
    pspReference: row.psp_reference,
    requestHash: row.request_hash,
    ledgerSynced: row.ledger_synced === 1,
  };
}

function holds(payout: PayoutRecord): TransferInput[] {
  const wallet = accountIds.wallet(payout.sellerAccount, payout.currency);
  const legs = [
    {
      suffix: '',
      credit: accountIds.clearing(payout.connector, payout.currency),
      amount: payout.amount,
    },
    { suffix: 'fee-', credit: accountIds.fees(payout.currency), amount: payout.fee },
  ];
  return legs
    .filter((leg) => leg.amount > 0n)
    .map((leg) => ({
      id: `payout:${payout.id}:${leg.suffix}hold`,
      debitAccountId: wallet,
      creditAccountId: leg.credit,
      amount: leg.amount,
      currency: payout.currency,
      pending: true,
    }));
}

export class Payouts {
  readonly #service: PaymentService;
  readonly #db: Db;
  readonly #feeBps: number;

  constructor(options: { service: PaymentService; feeBps: number }) {
    this.#service = options.service;
    this.#db = options.service.db;
    this.#feeBps = options.feeBps;
  }

  get(id: string): PayoutRecord {
    const payout = readPayout(this.#db, id);
    if (payout === undefined) throw new PaymentError('PAYOUT_NOT_FOUND', { payout_id: id });
    return payout;
  }

  #setStatus(id: string, status: PayoutStatus, pspReference: string | null): boolean {
    return transact(this.#db, () => {
      const changed = statement(
        this.#db,
        `UPDATE payouts SET status = ?, psp_reference = COALESCE(?, psp_reference),
           ledger_synced = 0, updated_at_ms = ? WHERE id = ? AND status IN ('NOT_STARTED', 'EXECUTING')
           AND status != ?`,
      ).run(status, pspReference, Date.now(), id, status).changes;
      if (changed === 1) {
        const message = {
          id: `msg:payout:${id}:${status}`,
          type: `payout.${status.toLowerCase()}`,
          payload: { payout_id: id, status },
        };
        appendOutbox(this.#db, message, Date.now());
      }
      return changed === 1;
    });
  }

  /** Makes the ledger agree with the payout's status. */
  async sync(id: string): Promise<PayoutRecord> {
    const payout = this.get(id);
    if (payout.ledgerSynced) return payout;
    // The status that calls for these steps is committed first (store.ts: group commit).
    await storeDurable(this.#db);
    const transfers = holds(payout);
    const ledger = this.#service.ledger;
    if (payout.status === 'EXECUTING' || payout.status === 'SUCCESS') {
      const statuses = await placeHolds(ledger, transfers);
      if (statuses.some((status) => status !== 'ok' && status !== 'exists')) {
        this.#setStatus(id, 'FAILED', null);
        markLedgerSynced(this.#db, 'payouts', id);
        throw new PaymentError('TRANSFER_REJECTED', { payout_id: id, statuses });
      }
    }
    if (payout.status === 'SUCCESS') {
      await ledger.postPendingTransfers(
        transfers.map((t) => ({ id: t.id.replace(/hold$/, 'post'), pendingId: t.id })),
      );
    }
    if (payout.status === 'FAILED') {
      await ledger.voidPendingTransfers(
        transfers.map((t) => ({ id: t.id.replace(/hold$/, 'void'), pendingId: t.id })),
      );
    }
    markLedgerSynced(this.#db, 'payouts', id);
    return this.get(id);
  }

  /** Creates (or finds) a payout, holds its money and asks the PSP to pay it. */
  async create(
    input: {
      id: string;
      connector: string;
      sellerAccount: string;
      amount: bigint;
      currency: string;
      destination: string;
    },
    requestHash: string,
  ): Promise<PayoutRecord> {
    this.#service.adapter(input.connector);
    const existing = readPayout(this.#db, input.id);
    if (existing !== undefined && existing.requestHash !== requestHash) {
      throw new PaymentError('PAYOUT_ID_TAKEN', { payout_id: input.id });
    }
    if (existing === undefined) {
      const nowMs = Date.now();
      statement(
        this.#db,
        `INSERT INTO payouts VALUES (?, ?, ?, ?, ?, ?, 'NOT_STARTED', NULL, ?, 1, ?, ?)`,
      ).run(
        input.id,
        input.connector,
        input.sellerAccount,
        input.amount.toString(),
        feeOf(input.amount, this.#feeBps).toString(),
        input.currency,
        requestHash,
        nowMs,
        nowMs,
      );
    }
    const { currency } = input;
    await this.#service.accounts.ensure([
      { id: accountIds.wallet(input.sellerAccount, currency), currency, wallet: true },
      { id: accountIds.clearing(input.connector, currency), currency, wallet: false },
      { id: accountIds.fees(currency), currency, wallet: false },
    ]);
    this.#setStatus(input.id, 'EXECUTING', null);
    const held = await this.sync(input.id);
    if (held.status !== 'EXECUTING') return held;
    await this.send(input.id, input.destination);
    return this.get(input.id);
  }

  /** The PSP call, keyed by the payout id; a timeout leaves it to the retry queue. */
  async send(id: string, destination: string): Promise<void> {
    const payout = this.get(id);
    const psp = this.#service.adapter(payout.connector);
    try {
      const outcome = await psp.createPayout({
        reference: id,
        amount: payout.amount,
        currency: payout.currency,
        destination,
      });
      if (outcome.status === 'failed') await this.settle(id, 'failed');
    } catch (error) {
      enqueueJob(this.#db, {
        kind: 'payout',
        subject: `${id}|${destination}`,
        atMs: Date.now() + 200,
      });
      if (!(error instanceof Error && error.name === 'PspRetryableError')) throw error;
    }
  }

  /** The PSP's final word on a payout: post the hold, or void it. */
  async settle(id: string, outcome: 'paid' | 'failed'): Promise<PayoutRecord | undefined> {
    if (readPayout(this.#db, id) === undefined) return undefined;
    this.#setStatus(id, outcome === 'paid' ? 'SUCCESS' : 'FAILED', null);
    return this.sync(id);
  }
}
