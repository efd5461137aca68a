// HTTP balance_transfer requests per second: the payments server (in this process, on an
// embedded ledger) against a load generator in another process that keeps a set number of
// keep-alive connections busy, one request in flight on each. Every request is a new transfer
// (its own transaction_id) between two funded wallets.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assert } from '@shardledger/ledger-core/internals';
import { accountIds } from '../ledger-binding.js';
import { startPaymentsServer } from '../serve.js';
import { startBenchChild } from './child.js';
import type { BenchFigure } from './figures.js';
import type { LoadSpec, LoadTally } from './load-main.js';

export interface HttpRunOptions {
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly connections: number;
  readonly durability: 'strict' | 'relaxed';
  readonly shards: number;
}

const walletCount = 1_000;

export async function runHttpBalanceTransfer(options: HttpRunOptions): Promise<BenchFigure> {
  const dir = await mkdtemp(join(tmpdir(), 'shardledger-bench-http-'));
  const server = await startPaymentsServer({
    dir,
    port: 0,
    shards: options.shards,
    durability: options.durability,
    // balance_transfer never calls the PSP; the service needs one configured all the same.
    psp: { connector: 'simpsp', baseUrl: 'http://127.0.0.1:9', webhookSecret: 'bench' },
  });
  const spec: LoadSpec = {
    url: server.url,
    connections: options.connections,
    warmupMs: options.warmupMs,
    durationMs: options.durationMs,
    wallets: walletCount,
    runId: `run-${Date.now()}`,
  };
  let load: ReturnType<typeof startBenchChild> | undefined;
  let tally: LoadTally;
  try {
    await fund(server.ledger);
    load = startBenchChild(['load', JSON.stringify(spec)]);
    tally = (await load.nextLine()) as LoadTally;
    assert((await server.ledger.verify()).ok, 'the ledger verifies after the run');
  } finally {
    await load?.stop();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
  const windowS = options.durationMs / 1000;
  return {
    scenario: 'HTTP balance_transfer',
    unit: 'requests/s',
    perSecond: tally.count / windowS,
    count: tally.count,
    errors: tally.errors,
    windowS,
    concurrency: options.connections,
    concurrencyKind: 'connections',
    durability: `ledger ${options.durability}, ${options.shards} shard(s)`,
    p50Ms: tally.p50Ms,
    p99Ms: tally.p99Ms,
    floorPerSecond: 15_000,
    p99MsMax: 50,
    method: `POST /v1/wallet/balance_transfer over loopback from a second process (undici Pool, ${options.connections} keep-alive connections, one request in flight each), a new transaction_id per request between ${walletCount} funded wallets; 200 answers received inside the window (latency from each request's send) after ${options.warmupMs} ms of warm-up (answer codes: ${JSON.stringify(tally.statuses)}); ledger verify() clean after the run`,
  };
}

/** Opens the wallets and credits each from a funding account, before the load starts. */
async function fund(ledger: Awaited<ReturnType<typeof startPaymentsServer>>['ledger']) {
  const source = accountIds.clearing('bench-funding', 'USD');
  const wallets = Array.from({ length: walletCount }, (_, index) =>
    accountIds.wallet(`bench-${index}`, 'USD'),
  );
  const created = await ledger.createAccounts([
    { id: source, currency: 'USD' },
    ...wallets.map((id) => ({ id, currency: 'USD', debitsMustNotExceedCredits: true })),
  ]);
  assert(
    created.every((result) => result.status === 'ok'),
    'the bench accounts are new',
  );
  const funded = await ledger.createTransfers(
    wallets.map((id) => ({
      id: `fund:${id}`,
      debitAccountId: source,
      creditAccountId: id,
      amount: 1_000_000_000n,
      currency: 'USD',
    })),
  );
  assert(
    funded.every((result) => result.status === 'ok'),
    'every wallet is funded',
  );
}
