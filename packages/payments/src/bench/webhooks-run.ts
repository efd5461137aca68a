// Webhook deliveries per second: an outbox of payment events for one endpoint, delivered by the
// WebhookDispatcher (signed, one POST each, every attempt logged in the store) to a receiver in
// another process that answers 204.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assert } from '@shardledger/ledger-core/internals';
import { appendOutbox, closeStore, openStore, statement, transact } from '../store.js';
import { deliveryLimits, Endpoints, WebhookDispatcher } from '../webhooks-out.js';
import { startBenchChild } from './child.js';
import type { BenchFigure } from './figures.js';

export interface WebhooksRunOptions {
  readonly durationMs: number;
  /** Events put in the outbox before the dispatcher starts. */
  readonly messages: number;
}

export async function runWebhookDeliveries(options: WebhooksRunOptions): Promise<BenchFigure> {
  const dir = await mkdtemp(join(tmpdir(), 'shardledger-bench-webhooks-'));
  const db = openStore(join(dir, 'payments.sqlite'));
  const receiver = startBenchChild(['receiver']);
  let delivered: number;
  let windowS: number;
  try {
    const { port } = (await receiver.nextLine()) as { port: number };
    new Endpoints(db).create({ url: `http://127.0.0.1:${port}/hooks`, eventTypes: [] });
    const nowMs = Date.now();
    transact(db, () => {
      for (let index = 0; index < options.messages; index += 1) {
        const payload = { checkout_id: `bench-${index}`, status: 'SUCCESS' };
        appendOutbox(db, { id: `msg:${index}`, type: 'payment.success', payload }, nowMs);
      }
    });
    const dispatcher = new WebhookDispatcher(db);
    const startMs = performance.now();
    const endMs = startMs + options.durationMs;
    while (performance.now() < endMs) {
      if ((await dispatcher.deliverDue()) === 0) break;
    }
    windowS = (performance.now() - startMs) / 1000;
    const row = statement(
      db,
      `SELECT count(*) AS n FROM deliveries WHERE state = 'delivered'`,
    ).get() as { n: number };
    delivered = row.n;
    assert(delivered > 0, 'the receiver took deliveries');
  } finally {
    await receiver.stop();
    closeStore(db);
    await rm(dir, { recursive: true, force: true });
  }
  const failed = options.messages - delivered;
  return {
    scenario: 'webhook deliveries',
    unit: 'deliveries/s',
    perSecond: delivered / windowS,
    count: delivered,
    errors: windowS * 1000 < options.durationMs ? failed : 0,
    windowS,
    concurrency: deliveryLimits.batchSizeMax,
    concurrencyKind: 'deliveries in flight',
    durability: 'store WAL (attempt log written per delivery)',
    p50Ms: null,
    p99Ms: null,
    floorPerSecond: null,
    p99MsMax: null,
    method: `WebhookDispatcher.deliverDue in a loop over ${options.messages.toLocaleString('en-US')} outbox events for one endpoint, Standard Webhooks signatures, to a receiver process answering 204 over loopback; the window ends when the outbox is drained or the duration is up`,
  };
}
