// How records look in JSON: amounts as decimal strings in major units, times as ISO 8601.
import { formatAmount, isLedgerError, parseAmount } from '@shardledger/shard-router';
import { PaymentError } from '../errors.js';
import type { PayoutRecord } from '../payouts.js';
import type { PaymentRecord } from '../store.js';

export function paymentView(payment: PaymentRecord) {
  const money = (amount: bigint) => formatAmount(amount, payment.currency);
  return {
    checkout_id: payment.id,
    status: payment.status,
    buyer_id: payment.buyerId,
    connector: payment.connector,
    currency: payment.currency,
    capture_method: payment.captureMethod,
    failure_reason: payment.failureReason,
    /** false for the moment between a status change and the ledger catching up with it. */
    ledger_synced: payment.ledgerSynced,
    expires_at: new Date(payment.expiresAtMs).toISOString(),
    created_at: new Date(payment.createdAtMs).toISOString(),
    updated_at: new Date(payment.updatedAtMs).toISOString(),
    payment_orders: payment.orders.map((order) => ({
      payment_order_id: order.id,
      seller_account: order.sellerAccount,
      amount: money(order.amount),
      fee: money(order.fee),
      captured_amount: money(order.capturedAmount),
      status: order.status,
      psp_reference: order.pspReference,
    })),
  };
}

export function payoutView(payout: PayoutRecord) {
  return {
    payout_id: payout.id,
    status: payout.status,
    seller_account: payout.sellerAccount,
    amount: formatAmount(payout.amount, payout.currency),
    fee: formatAmount(payout.fee, payout.currency),
    currency: payout.currency,
    psp_reference: payout.pspReference,
    ledger_synced: payout.ledgerSynced,
  };
}

/** Decimal text in major units to minor units; a bad amount is a 400, never a rounding. */
export function minorUnits(text: string, currency: string, field: string): bigint {
  try {
    const amount = parseAmount(text, currency);
    if (amount <= 0n) throw new PaymentError('INVALID_AMOUNT', { field, reason: 'not positive' });
    return amount;
  } catch (error) {
    if (isLedgerError(error))
      throw new PaymentError('INVALID_AMOUNT', { field, reason: error.code });
    throw error;
  }
}
