// Test helpers: a real ledger seeded with PSP transfers, and a settlement file in the simulated
// PSP's format written for it, with a known set of breaks. Not a stub: every helper drives the
// real Ledger and writes a real file that the real parser reads.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatAmount, type Ledger, type TransferInput } from '@shardledger/shard-router';
import { seededRandom } from '@shardledger/ledger-core/testing';
import { simulatedProfile } from '../src/index.js';

export const usdClearing = 'simulated-clearing-USD';
export const eurClearing = 'simulated-clearing-EUR';

export interface SettlementRow {
  readonly recordId: string;
  readonly type: 'capture' | 'refund' | 'payout' | 'chargeback';
  readonly reference: string;
  readonly currency: string;
  /** Signed gross, minor units. */
  readonly gross: bigint;
  readonly fee: bigint;
  readonly settledAtMs: number;
}

export function rowText(row: SettlementRow): string {
  return [
    row.recordId,
    row.type,
    row.reference,
    `psp_${row.recordId}`,
    row.currency,
    formatAmount(row.gross, row.currency),
    formatAmount(row.fee, row.currency),
    formatAmount(row.gross - row.fee, row.currency),
    new Date(row.settledAtMs).toISOString(),
  ].join(',');
}

export function settlementText(
  rows: readonly string[],
  options: { crlf?: boolean; bom?: boolean } = {},
): string {
  const end = options.crlf === true ? '\r\n' : '\n';
  const body = [simulatedProfile.header.join(','), ...rows].join(end) + end;
  return options.bom === true ? `\uFEFF${body}` : body;
}

export async function createPspAccounts(ledger: Ledger): Promise<void> {
  const results = await ledger.createAccounts([
    { id: usdClearing, currency: 'USD', history: true },
    { id: eurClearing, currency: 'EUR', history: true },
    { id: 'merchant-USD', currency: 'USD' },
    { id: 'merchant-EUR', currency: 'EUR' },
    { id: 'simulated-suspense-USD', currency: 'USD' },
    { id: 'simulated-suspense-EUR', currency: 'EUR' },
  ]);
  if (results.some((result) => result.status !== 'ok' && result.status !== 'exists'))
    throw new Error(`accounts: ${JSON.stringify(results)}`);
}

/** A capture (money the PSP owes: debits the clearing account) or a refund (credits it). */
export function pspTransfer(
  id: string,
  reference: string,
  amount: bigint,
  currency = 'USD',
): TransferInput {
  const clearing = `simulated-clearing-${currency}`;
  const merchant = `merchant-${currency}`;
  const inward = amount > 0n;
  return {
    id,
    debitAccountId: inward ? clearing : merchant,
    creditAccountId: inward ? merchant : clearing,
    amount: inward ? amount : -amount,
    currency,
    metadata: { payment_order_id: reference },
  };
}

async function post(ledger: Ledger, transfers: readonly TransferInput[]): Promise<void> {
  for (let start = 0; start < transfers.length; start += 8000) {
    const results = await ledger.createTransfers(transfers.slice(start, start + 8000));
    const bad = results.find((result) => result.status !== 'ok' && result.status !== 'exists');
    if (bad !== undefined) throw new Error(`transfer ${bad.id}: ${bad.status}`);
  }
}

export interface SeededBreak {
  readonly type: string;
  readonly reference: string;
}

export interface Scenario {
  readonly file: string;
  readonly rows: readonly string[];
  readonly expected: readonly SeededBreak[];
  /** Line numbers of the lines seeded bad. */
  readonly badLines: readonly number[];
}

/** Posts `cleanCount` clean payments plus one case of every break kind and of every match shape,
 * then writes the settlement file for them (rows in a seeded random order). */
export async function seedScenario(
  ledger: Ledger,
  dir: string,
  options: { cleanCount: number; seed: number },
): Promise<Scenario> {
  await createPspAccounts(ledger);
  const random = seededRandom(options.seed);
  const transfers: TransferInput[] = [];
  const rows: SettlementRow[] = [];
  const row = (recordId: string, reference: string, gross: bigint, fee = 0n, currency = 'USD') =>
    rows.push({
      recordId,
      type: gross > 0n ? 'capture' : 'refund',
      reference,
      currency,
      gross,
      fee,
      settledAtMs: 0,
    });
  for (let n = 0; n < options.cleanCount; n += 1) {
    const amount = BigInt(100 + Math.floor(random() * 100_000));
    const fee = amount / 50n;
    const currency = n % 5 === 0 ? 'EUR' : 'USD';
    transfers.push(pspTransfer(`t-${n}`, `PO-${n}`, amount, currency));
    row(`st_${n}`, `PO-${n}`, amount, fee, currency);
    if (n % 7 === 0) {
      transfers.push(pspTransfer(`t-${n}-refund`, `PO-${n}`, -amount / 2n, currency));
      row(`st_${n}_refund`, `PO-${n}`, -amount / 2n, 0n, currency);
    }
  }
  // One line, two transfers (a capture booked in two parts).
  transfers.push(
    pspTransfer('t-split-a', 'PO-SPLIT', 600n),
    pspTransfer('t-split-b', 'PO-SPLIT', 400n),
  );
  row('st_split', 'PO-SPLIT', 1000n, 30n);
  // Two lines (partial settlements), one transfer.
  transfers.push(pspTransfer('t-partial', 'PO-PARTIAL', 1000n));
  row('st_partial_1', 'PO-PARTIAL', 700n, 21n);
  row('st_partial_2', 'PO-PARTIAL', 300n, 9n);
  // The breaks.
  row('st_ghost', 'PO-GHOST', 2500n, 75n); // missing_in_ledger
  transfers.push(pspTransfer('t-unsettled', 'PO-UNSETTLED', 1800n)); // missing_in_settlement
  transfers.push(pspTransfer('t-short', 'PO-SHORT', 1000n));
  row('st_short', 'PO-SHORT', 1050n, 31n); // amount_mismatch, amount_differs
  transfers.push(pspTransfer('t-net', 'PO-NET', 970n));
  row('st_net', 'PO-NET', 1000n, 30n); // amount_mismatch, fee_booked (the ledger booked net)
  transfers.push(pspTransfer('t-euro', 'PO-EURO', 1200n, 'EUR'));
  row('st_euro', 'PO-EURO', 1200n, 36n, 'USD'); // currency_mismatch
  transfers.push({ ...pspTransfer('t-voided', 'PO-VOIDED', 900n), pending: true });
  row('st_voided', 'PO-VOIDED', 900n, 27n); // status_mismatch
  transfers.push(pspTransfer('t-twice', 'PO-TWICE', 1100n));
  row('st_twice', 'PO-TWICE', 1100n, 33n);
  row('st_twice', 'PO-TWICE', 1100n, 33n); // duplicate
  await post(ledger, transfers);
  const [voided] = await ledger.voidPendingTransfers([
    { id: 't-voided-void', pendingId: 't-voided' },
  ]);
  if (voided?.status !== 'ok') throw new Error(`void: ${voided?.status}`);
  const settledAtMs = Date.now() + 1_000;
  const lines = rows.map((item) => rowText({ ...item, settledAtMs }));
  for (let at = lines.length - 1; at > 0; at -= 1) {
    const other = Math.floor(random() * (at + 1));
    [lines[at], lines[other]] = [lines[other]!, lines[at]!];
  }
  // Two bad lines, which the run reports and goes past: a bad amount and a short row.
  lines.splice(
    3,
    0,
    'st_bad_1,capture,PO-BAD-1,psp_x,USD,12.3x,0.00,12.30,2026-12-06T10:15:00.000Z',
  );
  lines.splice(8, 0, 'st_bad_2,capture,PO-BAD-2,psp_y,USD,5.00');
  const file = join(dir, 'settlement-2026-12-06.csv');
  await writeFile(file, settlementText(lines));
  return {
    file,
    rows: lines,
    badLines: [5, 10],
    expected: [
      { type: 'missing_in_ledger', reference: 'PO-GHOST' },
      { type: 'missing_in_settlement', reference: 'PO-UNSETTLED' },
      { type: 'amount_mismatch', reference: 'PO-SHORT' },
      { type: 'amount_mismatch', reference: 'PO-NET' },
      { type: 'currency_mismatch', reference: 'PO-EURO' },
      { type: 'status_mismatch', reference: 'PO-VOIDED' },
      { type: 'duplicate', reference: 'PO-TWICE' },
    ],
  };
}
