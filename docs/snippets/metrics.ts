import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { Ledger } from '@shardledger/shard-router';

// 1. Install the OpenTelemetry SDK before the ledger opens: the ledger takes its meter from the
// global provider at open. The Prometheus exporter is a reader that collects when scraped.
const exporter = new PrometheusExporter({ preventServerStart: true });
const provider = new MeterProvider({ readers: [exporter] });
metrics.setGlobalMeterProvider(provider);

// 2. Serve /metrics (here on its own loopback server; an app may add the route to its own).
const server = createServer((request, response) => {
  if (request.url === '/metrics') exporter.getMetricsRequestHandler(request, response);
  else response.writeHead(404).end();
});
const port = Number(process.env.METRICS_PORT ?? 9464);
await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;

// 3. Use the ledger as usual.
const ledger = await Ledger.open({ dir: process.env.SHARDLEDGER_DIR ?? './shardledger-data', shards: 2 });
await ledger.createAccounts([
  { id: 'bank', currency: 'USD' },
  { id: 'alice', currency: 'USD' },
]);
await ledger.createTransfers([
  { id: 'm-1', debitAccountId: 'bank', creditAccountId: 'alice', amount: 500n, currency: 'USD' },
  { id: 'm-2', debitAccountId: 'bank', creditAccountId: 'alice', amount: 700n, currency: 'USD' },
]);

// 4. What Prometheus scrapes: one line per instrument and attribute set.
const scraped = await (await fetch(url)).text();
const { ledgerId } = await ledger.info();
console.log(scraped.split('\n').filter((line) => line.startsWith('shardledger_')).join('\n'));
assert.match(scraped, new RegExp(`shardledger_transfers_total\\{ledger="${ledgerId}",status="ok"[^}]*\\} 2`));
assert.match(scraped, /shardledger_call_duration_count\{[^}]*operation="createTransfers"[^}]*\} 1/);
assert.match(scraped, /shardledger_queue_depth\{[^}]*shard="1"[^}]*\} 0/);

// 5. On shutdown: close the ledger, then the provider (it stops the exporter) and the server.
await ledger.close();
await provider.shutdown();
server.close();
metrics.disable(); // only so that this example leaves the process as it found it
