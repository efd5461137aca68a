// Settlement files of the simulated PSP: `settlement-<YYYY-MM-DD>.csv`, one line per settled
// operation, in the format the reconciliation package reads (docs/payments.md#settlement-files).
import { formatAmount } from '@shardledger/shard-router';
import { assert } from '@shardledger/ledger-core/internals';

export const settlementHeader =
  'record_id,type,payment_order_id,psp_reference,currency,gross,fee,net,settled_at';

export interface SettlementRecord {
  readonly recordId: string;
  readonly type: 'capture' | 'refund' | 'payout' | 'chargeback';
  readonly paymentOrderId: string;
  readonly pspReference: string;
  readonly currency: string;
  /** Signed minor units: negative for money leaving the merchant. */
  readonly gross: bigint;
  /** Minor units, never negative. */
  readonly fee: bigint;
  readonly settledAtMs: number;
}

export function settlementFileName(date: string): string {
  assert(/^\d{4}-\d{2}-\d{2}$/.test(date), 'a settlement date is YYYY-MM-DD');
  return `settlement-${date}.csv`;
}

export function settlementDateOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function csvField(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export function settlementLine(record: SettlementRecord): string {
  assert(record.fee >= 0n, 'a settlement fee is never negative');
  assert(record.type === 'capture' ? record.gross > 0n : record.gross < 0n, 'gross sign by type');
  const net = record.gross - record.fee;
  return [
    record.recordId,
    record.type,
    record.paymentOrderId,
    record.pspReference,
    record.currency,
    formatAmount(record.gross, record.currency),
    formatAmount(record.fee, record.currency),
    formatAmount(net, record.currency),
    new Date(record.settledAtMs).toISOString(),
  ]
    .map(csvField)
    .join(',');
}

/** The whole file of one day: the header, then that day's records in the order they settled. */
export function settlementCsv(records: readonly SettlementRecord[], date: string): string {
  const lines = records
    .filter((record) => settlementDateOf(record.settledAtMs) === date)
    .map(settlementLine);
  return [settlementHeader, ...lines].join('\n') + '\n';
}
