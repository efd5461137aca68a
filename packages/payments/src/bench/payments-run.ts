// In-process payments per second: a payment of three orders, each to its own seller, created,
// authorised and captured through PaymentService, with the ledger and the store in this process
// and a PSP that answers at once. A closed loop keeps `inFlight` payments going.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ledger } from '@shardledger/shard-router';
import { assert } from '@shardledger/ledger-core/internals';
import { PaymentService } from '../payment-service.js';
import { closeStore, openStore } from '../store.js';
import { InstantPsp } from './instant-psp.js';
import { LatencySamples, quantile, type BenchFigure } from './figures.js';

export interface PaymentsRunOptions {
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly inFlight: number;
  readonly durability: 'strict' | 'relaxed';
  readonly shards: number;
}

const sellerCount = 1_000;
const ordersPerPayment = 3;

function createPayment(service: PaymentService, id: string, sequence: number): void {
  const orders = Array.from({ length: ordersPerPayment }, (_, index) => ({
    id: `${id}-${index}`,
    sellerAccount: `seller-${(sequence * ordersPerPayment + index) % sellerCount}`,
    amount: 1_000n,
  }));
  service.create(
    {
      checkoutId: id,
      buyerId: null,
      connector: 'instant',
      currency: 'USD',
      captureMethod: 'automatic',
      expiresInMs: 15 * 60_000,
      orders,
    },
    id,
    Date.now(),
  );
}

export async function runInProcessPayments(options: PaymentsRunOptions): Promise<BenchFigure> {
  const dir = await mkdtemp(join(tmpdir(), 'shardledger-bench-payments-'));
  const ledger = await Ledger.open({ dir, shards: options.shards, durability: options.durability });
  const db = openStore(join(dir, 'payments.sqlite'));
  const service = new PaymentService({
    ledger,
    db,
    adapters: new Map([['instant', new InstantPsp('instant')]]),
    feeBps: 200,
    holdGraceMs: 60_000,
  });
  const samples = new LatencySamples();
  const startMs = performance.now();
  const windowStartMs = startMs + options.warmupMs;
  const endMs = windowStartMs + options.durationMs;
  let sequence = 0;
  let counted = 0;
  let errors = 0;
  const loop = async () => {
    for (let now = performance.now(); now < endMs; now = performance.now()) {
      const id = `bench-${++sequence}`;
      try {
        createPayment(service, id, sequence);
        const payment = await service.drive(id);
        assert(payment.status === 'SUCCESS', 'a bench payment succeeds');
        const doneMs = performance.now();
        if (doneMs >= windowStartMs && doneMs <= endMs) {
          counted += 1;
          samples.add(doneMs - now);
        }
      } catch {
        errors += 1;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.inFlight }, loop));
    const verified = await ledger.verify();
    assert(verified.ok, 'the ledger verifies after the run');
  } finally {
    await ledger.close();
    closeStore(db);
    await rm(dir, { recursive: true, force: true });
  }
  const sorted = samples.sorted();
  const windowS = options.durationMs / 1000;
  return {
    scenario: 'in-process payments',
    unit: 'payments/s',
    perSecond: counted / windowS,
    count: counted,
    errors,
    windowS,
    concurrency: options.inFlight,
    concurrencyKind: 'payments in flight',
    durability: `ledger ${options.durability}, ${options.shards} shard(s); store WAL`,
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
    floorPerSecond: 30_000,
    p99MsMax: null,
    method: `PaymentService.create then drive: ${ordersPerPayment} orders to ${sellerCount} sellers, hold, authorise, capture, post; a PSP answering in process at once; payments finished inside the window (latency from each one's start) after ${options.warmupMs} ms of warm-up; ledger verify() clean after the run`,
  };
}
