#!/usr/bin/env node
// The payments bench's other process, so that load and server do not share an event loop:
//   load-main.js load '<json LoadSpec>'  keeps `connections` keep-alive connections busy with
//                                        balance_transfer requests (undici Pool, one request in
//                                        flight per connection) and prints the tally as JSON;
//   load-main.js receiver                answers every request 204 (a webhook endpoint) and
//                                        prints {"port": N}; ends on SIGTERM.
import { createServer } from 'node:http';
import { Pool } from 'undici';
import { LatencySamples, quantile } from './figures.js';

export interface LoadSpec {
  readonly url: string;
  readonly connections: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly wallets: number;
  /** Prefix of each transaction_id, so that every request of the run is a new transfer. */
  readonly runId: string;
}

export interface LoadTally {
  readonly count: number;
  readonly errors: number;
  readonly statuses: Record<string, number>;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

async function load(spec: LoadSpec): Promise<LoadTally> {
  const pool = new Pool(spec.url, { connections: spec.connections, pipelining: 1 });
  const samples = new LatencySamples();
  const statuses: Record<string, number> = {};
  const windowStartMs = performance.now() + spec.warmupMs;
  const endMs = windowStartMs + spec.durationMs;
  let sequence = 0;
  let count = 0;
  let errors = 0;
  const connection = async () => {
    for (let now = performance.now(); now < endMs; now = performance.now()) {
      const n = ++sequence;
      const from = n % spec.wallets;
      const body = JSON.stringify({
        from_account: `bench-${from}`,
        to_account: `bench-${(from + 1 + (n % 7)) % spec.wallets}`,
        amount: '0.01',
        currency: 'USD',
        transaction_id: `${spec.runId}-${n}`,
      });
      let status: number;
      try {
        const response = await pool.request({
          method: 'POST',
          path: '/v1/wallet/balance_transfer',
          headers: { 'content-type': 'application/json' },
          body,
        });
        status = response.statusCode;
        await response.body.text();
      } catch {
        status = 0;
      }
      const doneMs = performance.now();
      if (doneMs < windowStartMs || doneMs > endMs) continue;
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status === 200) {
        count += 1;
        samples.add(doneMs - now);
      } else errors += 1;
    }
  };
  await Promise.all(Array.from({ length: spec.connections }, connection));
  await pool.close();
  const sorted = samples.sorted();
  return { count, errors, statuses, p50Ms: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99) };
}

function receiver(): void {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(204);
      response.end();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    process.stdout.write(`${JSON.stringify({ port })}\n`);
  });
  process.on('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

const [mode, argument] = process.argv.slice(2);
if (mode === 'load') {
  const tally = await load(JSON.parse(argument ?? '{}') as LoadSpec);
  process.stdout.write(`${JSON.stringify(tally)}\n`);
} else if (mode === 'receiver') {
  receiver();
} else {
  process.stderr.write('usage: load-main.js load <json> | receiver\n');
  process.exitCode = 2;
}
