// Metrics through OpenTelemetry: a real Ledger (1 and 2 shards, real worker threads and LMDB
// files) under a MeterProvider registered globally with an in-memory reader; writes, then a
// collection, then the counters are compared with what was written and the gauges checked.
import { join } from 'node:path';
import { metrics } from '@opentelemetry/api';
import {
  MeterProvider,
  MetricReader,
  type DataPoint,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { tempDir } from '@shardledger/ledger-core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ledger } from '../src/index.js';
import { ReadModel } from '../src/read-model/index.js';
import { instruments, meterName } from '../src/metrics-otel.js';
import { failpointNames } from '../src/testing.js';
import { errorCodeOf, idOnShard } from './ledger-fixtures.js';

/** A reader the test collects from when it wants (no timer, no exporter). */
class CollectingReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

let reader: CollectingReader;
let provider: MeterProvider;
let dir: string;
let cleanup: () => Promise<void>;
const opened: Ledger[] = [];

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir('metrics'));
  reader = new CollectingReader();
  provider = new MeterProvider({ readers: [reader] });
  // Installed before the ledger opens, as an application does.
  metrics.setGlobalMeterProvider(provider);
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((ledger) => ledger.close()));
  await provider.shutdown();
  metrics.disable();
  await cleanup();
});

async function open(shards: number): Promise<Ledger> {
  const ledger = await Ledger.open({ dir: join(dir, `ledger-${shards}`), shards });
  opened.push(ledger);
  return ledger;
}

/** The metrics of the Ledger's meter, by name, from one collection. */
async function collect(): Promise<Map<string, MetricData>> {
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  const found = new Map<string, MetricData>();
  for (const scope of resourceMetrics.scopeMetrics) {
    if (scope.scope.name !== meterName) continue;
    for (const metric of scope.metrics) found.set(metric.descriptor.name, metric);
  }
  return found;
}

/** The value of `name` at the point whose attributes include `where` (undefined: none). */
function valueOf(
  found: Map<string, MetricData>,
  name: string,
  where: Record<string, string | number>,
): unknown {
  const points = (found.get(name)?.dataPoints ?? []) as DataPoint<unknown>[];
  const point = points.find((candidate) =>
    Object.entries(where).every(([key, value]) => candidate.attributes[key] === value),
  );
  return point?.value;
}

const usd = (id: string, debit: string, credit: string, amount = 10n) => ({
  id,
  debitAccountId: debit,
  creditAccountId: credit,
  amount,
  currency: 'USD',
});

describe('metrics through an installed OpenTelemetry SDK', () => {
  it('counts transfers by status, commits and call latency on one shard, and reports its gauges', async () => {
    const ledger = await open(1);
    await ledger.createAccounts([
      { id: 'bank', currency: 'USD' },
      { id: 'alice', currency: 'USD', debitsMustNotExceedCredits: true },
    ]);
    const first = await ledger.createTransfers([
      usd('t1', 'bank', 'alice'),
      usd('t2', 'bank', 'alice'),
      usd('t3', 'alice', 'bank', 5n),
    ]);
    const second = await ledger.createTransfers([
      usd('t1', 'bank', 'alice'), // a retry: exists
      usd('t4', 'alice', 'bank', 1_000n), // overdraws alice
      usd('t5', 'nobody', 'bank'),
    ]);
    expect([...first, ...second].map((result) => result.status)).toEqual([
      'ok',
      'ok',
      'ok',
      'exists',
      'insufficient_funds',
      'account_not_found',
    ]);
    await ledger.snapshot();
    const found = await collect();
    const ledgerId = (await ledger.info()).ledgerId;
    expect(valueOf(found, instruments.transfers.name, { status: 'ok', ledger: ledgerId })).toBe(3);
    expect(valueOf(found, instruments.transfers.name, { status: 'exists' })).toBe(1);
    expect(valueOf(found, instruments.transfers.name, { status: 'rejected' })).toBe(2);
    const snapshot = await ledger.metrics();
    expect(snapshot.transfers).toEqual({ ok: 3, exists: 1, rejected: 2 });
    // One account call and two transfer calls: three messages, each one group commit.
    expect(snapshot.shards[0]?.commits).toBe(3);
    expect(valueOf(found, instruments.commits.name, { shard: 0 })).toBe(3);
    const latency = (operation: string) =>
      valueOf(found, instruments.callDuration.name, { operation }) as Histogram | undefined;
    expect(latency('createTransfers')?.count).toBe(2);
    expect(latency('createAccounts')?.count).toBe(1);
    expect(latency('createTransfers')?.min).toBeGreaterThan(0);
    expect(latency('createAtomicGroup')).toBeUndefined();
    expect(found.get(instruments.callDuration.name)?.descriptor.unit).toBe('ms');
    // Gauges, at rest after a snapshot.
    expect(valueOf(found, instruments.queueDepth.name, { shard: 0 })).toBe(0);
    expect(valueOf(found, instruments.snapshotEvents.name, { shard: 0 })).toBe(0);
    const age = valueOf(found, instruments.snapshotAge.name, { shard: 0 }) as number;
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(60);
    const used = valueOf(found, instruments.mapUsed.name, { shard: 0 }) as number;
    const size = valueOf(found, instruments.mapSize.name, { shard: 0 }) as number;
    expect(used).toBe(snapshot.shards[0]?.mapUsedBytes);
    expect(used).toBeGreaterThan(0);
    expect(size).toBe(64 * 1024 ** 3);
    expect(valueOf(found, instruments.workerRestarts.name, { shard: 0 })).toBe(0);
    expect(valueOf(found, instruments.sagasOpen.name, { shard: 0 })).toBe(0);
    expect(valueOf(found, instruments.sagas.name, { outcome: 'committed' })).toBe(0);
  });

  it('counts a cross-shard transfer as a committed saga and a refused one as released, on two shards', async () => {
    const ledger = await open(2);
    const taken = new Set<string>();
    const bank = idOnShard(ledger, 0, 'bank', taken);
    const alice = idOnShard(ledger, 1, 'alice', taken);
    await ledger.createAccounts([
      { id: bank, currency: 'USD' },
      { id: alice, currency: 'USD', debitsMustNotExceedCredits: true },
    ]);
    const results = await ledger.createTransfers([
      usd('x1', bank, alice, 100n),
      usd('x2', alice, bank, 500n), // alice holds 100: refused on her shard, released on bank's
    ]);
    expect(results.map((result) => result.status)).toEqual(['ok', 'insufficient_funds']);
    const atomic = await ledger.createAtomicGroup([usd('g1', bank, alice), usd('g2', alice, bank)]);
    expect(atomic.map((result) => result.status)).toEqual(['ok', 'ok']);
    const found = await collect();
    expect(valueOf(found, instruments.transfers.name, { status: 'ok' })).toBe(3);
    expect(valueOf(found, instruments.transfers.name, { status: 'rejected' })).toBe(1);
    expect(valueOf(found, instruments.sagas.name, { outcome: 'committed' })).toBe(2);
    expect(valueOf(found, instruments.sagas.name, { outcome: 'released' })).toBe(1);
    const snapshot = await ledger.metrics();
    expect(snapshot.sagas).toEqual({ committed: 2, released: 1 });
    for (const shard of [0, 1]) {
      expect(valueOf(found, instruments.sagasOpen.name, { shard })).toBe(0);
      expect(valueOf(found, instruments.queueDepth.name, { shard })).toBe(0);
      const commits = valueOf(found, instruments.commits.name, { shard }) as number;
      expect(commits).toBe(snapshot.shards[shard]?.commits);
      expect(commits).toBeGreaterThan(0);
      // No snapshot yet: no age, and every event is after the (absent) snapshot.
      expect(valueOf(found, instruments.snapshotAge.name, { shard })).toBeUndefined();
      expect(snapshot.shards[shard]?.snapshotAgeSeconds).toBeNull();
      expect(valueOf(found, instruments.snapshotEvents.name, { shard })).toBe(
        (await ledger.info()).shardInfo[shard]?.lastSequence,
      );
    }
    expect(
      (
        valueOf(found, instruments.callDuration.name, { operation: 'createAtomicGroup' }) as
          Histogram | undefined
      )?.count,
    ).toBe(1);
  });

  it('counts a worker restart', async () => {
    const ledger = await open(2);
    const restarted = new Promise((resolve) => ledger.shardClient(1).onRestart(resolve));
    await ledger.shardClient(1).armFailpoint(failpointNames.shardReadBefore, {
      action: 'exit-worker',
    });
    expect(await errorCodeOf(ledger.lookupAccounts([idOnShard(ledger, 1, 'a')]))).toBe(
      'SHARD_UNAVAILABLE',
    );
    await restarted;
    const found = await collect();
    expect(valueOf(found, instruments.workerRestarts.name, { shard: 1 })).toBe(1);
    expect(valueOf(found, instruments.workerRestarts.name, { shard: 0 })).toBe(0);
  });

  it('reports the lag of a tracked read model in events, down to 0 once it caught up', async () => {
    const ledger = await open(2);
    const model = await ReadModel.open({ ledger, path: join(dir, 'rm.sqlite'), follow: false });
    try {
      const untrack = ledger.trackReadModel(model);
      await ledger.createAccounts([
        { id: 'a', currency: 'USD' },
        { id: 'b', currency: 'USD' },
      ]);
      const info = await ledger.info();
      const behind = await collect();
      for (const shard of [0, 1])
        expect(valueOf(behind, instruments.readModelLag.name, { shard })).toBe(
          info.shardInfo[shard]?.lastSequence,
        );
      expect(info.shardInfo.reduce((sum, shard) => sum + shard.lastSequence, 0)).toBe(2);
      await model.catchUp();
      const caughtUp = await collect();
      for (const shard of [0, 1])
        expect(valueOf(caughtUp, instruments.readModelLag.name, { shard })).toBe(0);
      untrack();
      expect((await ledger.metrics()).readModels).toEqual([]);
    } finally {
      await model.close();
    }
  });
});

describe('metrics without an SDK', () => {
  it('still counts in Ledger.metrics() while every instrument is the API no-op', async () => {
    metrics.disable();
    const ledger = await open(1);
    await ledger.createAccounts([
      { id: 'a', currency: 'USD' },
      { id: 'b', currency: 'USD' },
    ]);
    await ledger.createTransfers([usd('n1', 'a', 'b'), usd('n1', 'a', 'b')]);
    expect((await ledger.metrics()).transfers).toEqual({ ok: 1, exists: 1, rejected: 0 });
    // The reader belongs to a provider the ledger never saw: it collects nothing of it.
    expect((await collect()).size).toBe(0);
  });
});
