// Peers: PostgreSQL, fsync and synchronous_commit on (strict). Balances are numeric(39,0): the full
// u128 range, exactly. A throw-away server is started from the installed binaries unless `pgUrl`
// is given. Two forms:
// - `postgres`, batched: one round trip per batch, a PL/pgSQL function over arrays
//   (postgres-batched.ts), from several connections: the strongest form, as its experts write it;
// - `postgres-per-transfer`: each transfer its own transaction (BEGIN; INSERT transfer; UPDATE
//   debit with its balance check; UPDATE credit; COMMIT), from `connections` concurrent clients,
//   the shape an ORM gives. The two UPDATEs run in account-index order, so no deadlocks.

import pg from 'pg';
import { measure } from '../measure.js';
import {
  assertConserved,
  type Peer,
  type RunOptions,
  type RunResult,
  type SkippedRun,
} from './peer.js';
import {
  applyBatchOn,
  batchFunctionSql,
  postgresBatchedConnectionsDefault,
  sessionSetupSql,
} from './postgres-batched.js';
import { startPostgres, type PgServer } from './postgres-server.js';
import type { Workload } from '../workload.js';

export type PostgresForm = 'batched' | 'per-transfer';

/** Per-transfer form: best of 8/16/32 on the 2-core reference machine; settable. */
export const postgresConnectionsDefault = 16;
/** PostgreSQL is slow; its window is capped so `npm run bench` stays under two minutes. */
export const postgresDurationMsMax = 3000;

export interface PostgresPeerOptions {
  /** An existing server; the bench creates and drops its own tables there. */
  readonly pgUrl?: string;
  readonly connections?: number;
  readonly binDir?: string;
  readonly durationMsMax?: number;
}

const schema = `
  DROP TABLE IF EXISTS bench_transfers, bench_accounts;
  CREATE TABLE bench_accounts (
    idx integer PRIMARY KEY,
    id text NOT NULL UNIQUE,
    currency text NOT NULL,
    flags integer NOT NULL DEFAULT 0,
    debits_posted numeric(39, 0) NOT NULL DEFAULT 0,
    credits_posted numeric(39, 0) NOT NULL DEFAULT 0
  );
  CREATE TABLE bench_transfers (
    id text PRIMARY KEY,
    debit_idx integer NOT NULL,
    credit_idx integer NOT NULL,
    amount numeric(39, 0) NOT NULL,
    currency text NOT NULL
  );`;

const insertTransfer = {
  name: 'insert_transfer',
  text: 'INSERT INTO bench_transfers (id, debit_idx, credit_idx, amount, currency) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING',
};
const debitText =
  'UPDATE bench_accounts SET debits_posted = debits_posted + $2 WHERE idx = $1 AND (flags & 1 = 0 OR credits_posted - debits_posted >= $2)';
const creditText = 'UPDATE bench_accounts SET credits_posted = credits_posted + $2 WHERE idx = $1';

export function createPostgresPeer(
  peerOptions: PostgresPeerOptions = {},
  form: PostgresForm = 'batched',
): Peer {
  const name = form === 'batched' ? 'postgres' : 'postgres-per-transfer';
  return {
    name,
    async run(options: RunOptions): Promise<RunResult | SkippedRun> {
      let server: PgServer | null = null;
      let config: pg.ClientConfig;
      if (peerOptions.pgUrl !== undefined) config = { connectionString: peerOptions.pgUrl };
      else {
        const started = await startPostgres({
          synchronousCommit: options.durability === 'strict',
          ...(peerOptions.binDir === undefined ? {} : { binDir: peerOptions.binDir }),
        });
        if (!started.ok)
          return {
            name,
            skipped: `PostgreSQL unavailable: ${started.reason} (use --pg-url to point at a server)`,
          };
        server = started.server;
        config = { ...server.connection };
      }
      try {
        return await runOn(config, options, { ...peerOptions, form, name });
      } finally {
        server?.stop();
      }
    },
  };
}

/** Transfers applied so far, and their amounts summed: checked against the balances after. */
interface Tally {
  count: number;
  amount: bigint;
}

type Step = (unit: number, client: pg.Client) => Promise<void>;

async function runOn(
  config: pg.ClientConfig,
  options: RunOptions,
  peerOptions: PostgresPeerOptions & { form: PostgresForm; name: string },
): Promise<RunResult> {
  const { workload } = options;
  const { form, name } = peerOptions;
  const connections =
    peerOptions.connections ??
    (form === 'batched' ? postgresBatchedConnectionsDefault : postgresConnectionsDefault);
  const clients = Array.from({ length: connections }, () => new pg.Client(config));
  try {
    await Promise.all(clients.map((client) => client.connect()));
    const admin = clients[0] as pg.Client;
    await prepare(clients, options, form);
    const tally: Tally = { count: 0, amount: 0n };
    const batched = form === 'batched';
    const step = batched ? batchStep(workload, tally) : transferStep(workload, tally);
    const durationMsMax = peerOptions.durationMsMax ?? postgresDurationMsMax;
    const measurement = await measure({
      label: name,
      warmupMs: Math.min(options.warmupMs, 1000),
      durationMs: Math.min(options.durationMs, durationMsMax),
      unitCount: batched ? workload.batchCount : workload.transferCount,
      cycle: false,
      concurrency: connections,
      unitSize: batched ? (unit) => workload.batch(unit).ids.length : () => 1,
      step: (unit, caller) => step(unit, clients[caller] as pg.Client),
      progress: options.progress,
    });
    const { rows } = await admin.query<{ debits: string; credits: string }>(
      'SELECT sum(debits_posted)::text AS debits, sum(credits_posted)::text AS credits FROM bench_accounts',
    );
    const checks = {
      appliedCount: tally.count,
      debitsTotal: BigInt(rows[0]?.debits ?? '0'),
      creditsTotal: BigInt(rows[0]?.credits ?? '0'),
    };
    assertConserved(name, checks, tally.amount);
    const version = (await admin.query<{ server_version: string }>('SHOW server_version')).rows[0]
      ?.server_version;
    const method = `window capped at ${durationMsMax / 1000} s; PostgreSQL ${version}, ${batched ? `one call of a PL/pgSQL function per batch of ${workload.batchSize} (arrays in, set-based insert and balance updates, accounts locked in index order)` : 'one transaction per transfer'}, ${connections} connections, fsync=on, synchronous_commit=${options.durability === 'strict' ? 'on' : 'off'}`;
    return { name, method, checks, ...measurement };
  } finally {
    await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
  }
}

/** The tables and the workload's accounts (on the first client); for the batched form the
 * function and every session's setup; under strict, a check that the server has fsync on. */
async function prepare(
  clients: readonly pg.Client[],
  options: RunOptions,
  form: PostgresForm,
): Promise<void> {
  const { workload } = options;
  const admin = clients[0] as pg.Client;
  await admin.query(schema);
  await admin.query(
    'INSERT INTO bench_accounts (idx, id, currency) SELECT i - 1, x.id, $2 FROM unnest($1::text[]) WITH ORDINALITY AS x(id, i)',
    [workload.accountIds, workload.currency],
  );
  await admin.query('ANALYZE bench_accounts');
  if (form === 'batched') {
    await admin.query(batchFunctionSql);
    await Promise.all(clients.map((client) => client.query(sessionSetupSql)));
  }
  if (options.durability === 'strict') {
    const { rows } = await admin.query<{ fsync: string }>('SHOW fsync');
    if (rows[0]?.fsync !== 'on')
      throw new Error('postgres: fsync is off on this server; strict needs it on');
  }
}

/** The batched form's unit: one batch, one call of the PL/pgSQL function. */
function batchStep(workload: Workload, tally: Tally): Step {
  return async (unit, client) => {
    const applied = await applyBatchOn(client, workload.batch(unit), workload.currency);
    tally.count += applied.applied;
    tally.amount += applied.amount;
  };
}

/** The per-transfer form's unit: one transfer, its own transaction. */
function transferStep(workload: Workload, tally: Tally): Step {
  const { batchSize } = workload;
  return async (transfer, client) => {
    const batch = workload.batch(Math.floor(transfer / batchSize));
    const item = transfer % batchSize;
    const debitIdx = batch.debit[item] as number;
    const creditIdx = batch.credit[item] as number;
    const amount = String(batch.amount[item]);
    await client.query('BEGIN');
    const inserted = await client.query({
      ...insertTransfer,
      values: [batch.ids[item], debitIdx, creditIdx, amount, workload.currency],
    });
    if (inserted.rowCount !== 1) return void (await client.query('ROLLBACK')); // exists
    const debitFirst = debitIdx < creditIdx;
    const first = debitFirst
      ? { name: 'debit', text: debitText, values: [debitIdx, amount] }
      : { name: 'credit', text: creditText, values: [creditIdx, amount] };
    const second = debitFirst
      ? { name: 'credit', text: creditText, values: [creditIdx, amount] }
      : { name: 'debit', text: debitText, values: [debitIdx, amount] };
    const firstResult = await client.query(first);
    const secondResult = await client.query(second);
    if (firstResult.rowCount !== 1 || secondResult.rowCount !== 1)
      return void (await client.query('ROLLBACK')); // EXCEEDS_CREDITS
    await client.query('COMMIT');
    tally.count++;
    tally.amount += BigInt(amount);
  };
}
