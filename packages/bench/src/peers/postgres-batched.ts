// PostgreSQL written the way its experts write a ledger's fast path: one round trip per batch.
// One call of a PL/pgSQL function takes the whole batch as arrays (unnest) and, in one
// transaction: inserts the transfers (a transfer whose id exists is skipped: idempotency), locks
// the accounts it touches in index order (so concurrent batches never deadlock), and moves the
// money with one UPDATE per account, summed over the batch. A batch that touches an account with
// a limit flag is applied transfer by transfer instead, in input order, with the overdraft check,
// because there the order decides which transfers fit. Several connections send batches at once.

import type pg from 'pg';
import type { WorkloadBatch } from '../workload.js';

/** Batches in flight at once: best of 2, 4 and 8 on the 2-core reference machine. */
export const postgresBatchedConnectionsDefault = 4;

export const batchFunctionSql = `
CREATE OR REPLACE FUNCTION bench_apply_batch(ids text[], debit_idxs int[], credit_idxs int[], amounts numeric[], cur text,
                                             OUT applied int, OUT applied_amount numeric)
LANGUAGE plpgsql AS $$
DECLARE
  flagged boolean;
  i int;
BEGIN
  SELECT bool_or(flags & 1 <> 0) INTO flagged FROM bench_accounts
   WHERE idx = ANY(debit_idxs) OR idx = ANY(credit_idxs);
  IF NOT coalesce(flagged, false) THEN
    -- The set-based path: nothing in this batch can be refused for funds.
    WITH inserted AS (
      INSERT INTO bench_transfers (id, debit_idx, credit_idx, amount, currency)
      SELECT t.id, t.d, t.c, t.a, cur FROM unnest(ids, debit_idxs, credit_idxs, amounts) AS t(id, d, c, a)
      ON CONFLICT (id) DO NOTHING
      RETURNING debit_idx, credit_idx, amount)
    INSERT INTO bench_inserted SELECT * FROM inserted;
    PERFORM 1 FROM bench_accounts WHERE idx IN (SELECT debit_idx FROM bench_inserted UNION SELECT credit_idx FROM bench_inserted)
      ORDER BY idx FOR UPDATE;
    UPDATE bench_accounts a SET debits_posted = a.debits_posted + s.d, credits_posted = a.credits_posted + s.c
      FROM (SELECT idx, sum(d) AS d, sum(c) AS c FROM (
              SELECT debit_idx AS idx, amount AS d, 0::numeric AS c FROM bench_inserted
              UNION ALL SELECT credit_idx, 0::numeric, amount FROM bench_inserted) x GROUP BY idx) s
     WHERE a.idx = s.idx;
    SELECT count(*)::int, coalesce(sum(amount), 0) INTO applied, applied_amount FROM bench_inserted;
    RETURN;
  END IF;
  -- The ordered path: lock every account of the batch in index order, then apply in input order.
  PERFORM 1 FROM bench_accounts WHERE idx = ANY(debit_idxs) OR idx = ANY(credit_idxs) ORDER BY idx FOR UPDATE;
  applied := 0;
  applied_amount := 0;
  FOR i IN 1 .. array_length(ids, 1) LOOP
    UPDATE bench_accounts SET debits_posted = debits_posted + amounts[i]
     WHERE idx = debit_idxs[i] AND (flags & 1 = 0 OR credits_posted - debits_posted >= amounts[i]);
    CONTINUE WHEN NOT FOUND;
    INSERT INTO bench_transfers (id, debit_idx, credit_idx, amount, currency)
      VALUES (ids[i], debit_idxs[i], credit_idxs[i], amounts[i], cur) ON CONFLICT (id) DO NOTHING;
    IF NOT FOUND THEN
      UPDATE bench_accounts SET debits_posted = debits_posted - amounts[i] WHERE idx = debit_idxs[i];
      CONTINUE;
    END IF;
    UPDATE bench_accounts SET credits_posted = credits_posted + amounts[i] WHERE idx = credit_idxs[i];
    applied := applied + 1;
    applied_amount := applied_amount + amounts[i];
  END LOOP;
END $$;`;

/** Run once per connection: the scratch table of the set-based path (per session, emptied at
 * each commit). */
export const sessionSetupSql =
  'CREATE TEMP TABLE bench_inserted (debit_idx int, credit_idx int, amount numeric) ON COMMIT DELETE ROWS';

const applyBatch = {
  name: 'apply_batch',
  text: 'SELECT applied, applied_amount::text AS amount FROM bench_apply_batch($1::text[], $2::int[], $3::int[], $4::numeric[], $5)',
};

/** Sends one batch as one call; resolves to what it applied. */
export async function applyBatchOn(
  client: pg.Client,
  batch: WorkloadBatch,
  currency: string,
): Promise<{ applied: number; amount: bigint }> {
  const amounts = Array.from(batch.amount, (amount) => String(amount));
  const { rows } = await client.query<{ applied: number; amount: string }>({
    ...applyBatch,
    values: [batch.ids, Array.from(batch.debit), Array.from(batch.credit), amounts, currency],
  });
  const row = rows[0];
  if (row === undefined) throw new Error('postgres: bench_apply_batch returned no row');
  return { applied: row.applied, amount: BigInt(row.amount) };
}
