// Peer: PostgreSQL, each transfer its own transaction (BEGIN; INSERT transfer; UPDATE debit with
// its balance check; UPDATE credit; COMMIT), from `connections` concurrent clients, fsync and
// synchronous_commit on (strict). Balances are numeric(39,0): the full u128 range, exactly.
// The two UPDATEs run in account-index order so that concurrent transactions never deadlock.
// A throw-away server is started from the installed binaries unless `pgUrl` is given.

import pg from 'pg';
import { measure } from '../measure.js';
import { assertConserved, type Peer, type RunOptions, type RunResult, type SkippedRun } from './peer.js';
import { startPostgres, type PgServer } from './postgres-server.js';

/** Best of 8/16/32 on this 2-core machine (see docs/benchmarks.md); settable. */
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

const insertTransfer = { name: 'insert_transfer', text: 'INSERT INTO bench_transfers (id, debit_idx, credit_idx, amount, currency) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING' };
const debitText = 'UPDATE bench_accounts SET debits_posted = debits_posted + $2 WHERE idx = $1 AND (flags & 1 = 0 OR credits_posted - debits_posted >= $2)';
const creditText = 'UPDATE bench_accounts SET credits_posted = credits_posted + $2 WHERE idx = $1';

export function createPostgresPeer(peerOptions: PostgresPeerOptions = {}): Peer {
  return {
    name: 'postgres',
    async run(options: RunOptions): Promise<RunResult | SkippedRun> {
      let server: PgServer | null = null;
      let config: pg.ClientConfig;
      if (peerOptions.pgUrl !== undefined) config = { connectionString: peerOptions.pgUrl };
      else {
        const started = await startPostgres({ synchronousCommit: options.durability === 'strict', ...(peerOptions.binDir === undefined ? {} : { binDir: peerOptions.binDir }) });
        if (!started.ok) return { name: 'postgres', skipped: `PostgreSQL unavailable: ${started.reason} (use --pg-url to point at a server)` };
        server = started.server;
        config = { ...server.connection };
      }
      try {
        return await runOn(config, options, peerOptions);
      } finally {
        server?.stop();
      }
    },
  };
}

async function runOn(config: pg.ClientConfig, options: RunOptions, peerOptions: PostgresPeerOptions): Promise<RunResult> {
  const { workload } = options;
  const connections = peerOptions.connections ?? postgresConnectionsDefault;
  const clients = Array.from({ length: connections }, () => new pg.Client(config));
  try {
    await Promise.all(clients.map((client) => client.connect()));
    const admin = clients[0] as pg.Client;
    await admin.query(schema);
    await admin.query('INSERT INTO bench_accounts (idx, id, currency) SELECT i - 1, x.id, $2 FROM unnest($1::text[]) WITH ORDINALITY AS x(id, i)', [workload.accountIds, workload.currency]);
    await admin.query('ANALYZE bench_accounts');
    if (options.durability === 'strict') {
      const { rows } = await admin.query<{ fsync: string }>('SHOW fsync');
      if (rows[0]?.fsync !== 'on') throw new Error('postgres: fsync is off on this server; strict needs it on');
    }
    let appliedCount = 0;
    let appliedAmount = 0n;
    const { batchSize } = workload;
    const transferOne = async (transfer: number, client: pg.Client): Promise<void> => {
      const batch = workload.batch(Math.floor(transfer / batchSize));
      const item = transfer % batchSize;
      const debitIdx = batch.debit[item] as number;
      const creditIdx = batch.credit[item] as number;
      const amount = String(batch.amount[item]);
      await client.query('BEGIN');
      const inserted = await client.query({ ...insertTransfer, values: [batch.ids[item], debitIdx, creditIdx, amount, workload.currency] });
      if (inserted.rowCount !== 1) return void (await client.query('ROLLBACK')); // exists
      const debitFirst = debitIdx < creditIdx;
      const first = debitFirst ? { name: 'debit', text: debitText, values: [debitIdx, amount] } : { name: 'credit', text: creditText, values: [creditIdx, amount] };
      const second = debitFirst ? { name: 'credit', text: creditText, values: [creditIdx, amount] } : { name: 'debit', text: debitText, values: [debitIdx, amount] };
      const firstResult = await client.query(first);
      const secondResult = await client.query(second);
      if (firstResult.rowCount !== 1 || secondResult.rowCount !== 1) return void (await client.query('ROLLBACK')); // EXCEEDS_CREDITS
      await client.query('COMMIT');
      appliedCount++;
      appliedAmount += BigInt(amount);
    };
    const measurement = await measure({
      label: 'postgres',
      warmupMs: Math.min(options.warmupMs, 1000),
      durationMs: Math.min(options.durationMs, peerOptions.durationMsMax ?? postgresDurationMsMax),
      unitCount: workload.transferCount,
      cycle: false,
      concurrency: connections,
      unitSize: () => 1,
      step: (unit, caller) => transferOne(unit, clients[caller] as pg.Client),
      progress: options.progress,
    });
    const { rows } = await admin.query<{ debits: string; credits: string }>('SELECT sum(debits_posted)::text AS debits, sum(credits_posted)::text AS credits FROM bench_accounts');
    const checks = { appliedCount, debitsTotal: BigInt(rows[0]?.debits ?? '0'), creditsTotal: BigInt(rows[0]?.credits ?? '0') };
    assertConserved('postgres', checks, appliedAmount);
    const method = `window capped at ${(peerOptions.durationMsMax ?? postgresDurationMsMax) / 1000} s; PostgreSQL ${(await admin.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version}, one transaction per transfer, ${connections} connections, fsync=on, synchronous_commit=${options.durability === 'strict' ? 'on' : 'off'}`;
    return { name: 'postgres', method, checks, ...measurement };
  } finally {
    await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
  }
}
