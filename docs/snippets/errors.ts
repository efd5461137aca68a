import { setTimeout as sleep } from 'node:timers/promises';
import { Ledger, isLedgerError, type TransferInput, type TransferResult } from '@shardledger/shard-router';

/** Submits transfers, retrying calls that failed for a passing reason (a shard restarting, a full
 * queue). Retrying is safe because transfer ids are idempotency keys: a transfer that was applied
 * before the failure comes back as 'exists', never twice. */
async function submit(ledger: Ledger, transfers: TransferInput[]): Promise<TransferResult[]> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await ledger.createTransfers(transfers);
    } catch (error) {
      if (isLedgerError(error) && error.retryable && attempt < 10) {
        await sleep(20 * attempt);
        continue;
      }
      throw error; // INVALID_ARGUMENT, BATCH_TOO_LARGE, LEDGER_CLOSED, IO_ERROR...: a bug or an outage
    }
  }
}

const ledger = await Ledger.open({ dir: process.env.SHARDLEDGER_DIR ?? './shardledger-data', shards: 2 });
await ledger.createAccounts([
  { id: 'bank', currency: 'USD' },
  { id: 'alice', currency: 'USD', debitsMustNotExceedCredits: true },
]);
const results = await submit(ledger, [
  { id: 't-1', debitAccountId: 'bank', creditAccountId: 'alice', amount: 1000n, currency: 'USD' },
  { id: 't-2', debitAccountId: 'alice', creditAccountId: 'bank', amount: 5000n, currency: 'USD' },
  { id: 't-3', debitAccountId: 'alice', creditAccountId: 'bob', amount: 1n, currency: 'USD' },
]);
// Business rejections are results, one per input and in order; they never throw.
for (const { id, status } of results) {
  if (status === 'ok' || status === 'exists') continue;
  console.log(`${id}: ${status}`); // t-2: insufficient_funds, t-3: account_not_found
}
if (results.map((result) => result.status).join() !== 'ok,insufficient_funds,account_not_found') {
  throw new Error(`unexpected results ${JSON.stringify(results)}`);
}

// Misuse is an operational error: the promise rejects with a LedgerError and nothing is written.
const tooMany = Array.from({ length: 8_191 }, (_, index) => ({
  id: `bulk-${index}`, debitAccountId: 'bank', creditAccountId: 'alice', amount: 1n, currency: 'USD',
}));
const error = await ledger.createTransfers(tooMany).catch((caught: unknown) => caught);
if (!isLedgerError(error, 'BATCH_TOO_LARGE') || error.kind !== 'operational' || error.retryable) {
  throw new Error(`expected BATCH_TOO_LARGE, got ${String(error)}`);
}
await ledger.close();
