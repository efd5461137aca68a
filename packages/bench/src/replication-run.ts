// `shardledger bench standard --durability replicated`: the standard workload on a `strict` ledger
// and on a `replicated` one in the same run, the replicated one writing to a 3-node NATS JetStream
// cluster that the bench starts on loopback (real nats-server processes). Then a fresh, empty dir
// is opened from the cluster's streams, and the catch-up rate (events restored per second) is
// measured; the restored ledger must hold the same balances as the one that wrote them, and
// verify() must be clean.

import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ledger, limits } from '@shardledger/shard-router';
import { startNatsCluster } from '@shardledger/shard-router/internals';
import type { BenchOptions } from './bench-options.js';
import type { BenchResult } from './result.js';
import { runBench } from './run-bench.js';
import { ledgerTarget } from './targets/shardledger.js';
import type { AccountBalances, LedgerTarget, OpenTarget } from './target.js';

/** The floor and target set for replicated ÷ strict throughput. */
export const replicatedRatioFloor = 0.4;
export const replicatedRatioTarget = 0.8;

export interface CatchUp {
  /** Accounts and transfers the replicated run had acknowledged, all restored. */
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly accountsCompared: number;
}

export interface ReplicationBenchResult {
  readonly command: string;
  readonly strict: BenchResult;
  readonly replicated: BenchResult;
  readonly ratio: number;
  readonly catchUp: CatchUp;
  readonly loadAverageStart: number;
  readonly loadAverageEnd: number;
}

/** What the replicated run wrote, kept for the comparison after the catch-up. */
interface Written {
  events: number;
  shards: number;
  balances: Map<string, AccountBalances>;
}

/** Looks accounts up in calls of at most limits.batchSizeMax ids. */
async function lookupAll(
  ledger: Ledger,
  ids: readonly string[],
): Promise<(AccountBalances | undefined)[]> {
  const found: (AccountBalances | undefined)[] = [];
  for (let start = 0; start < ids.length; start += limits.batchSizeMax)
    found.push(...(await ledger.lookupAccounts(ids.slice(start, start + limits.batchSizeMax))));
  return found;
}

/** Opens a replicated ledger on `servers`; counts what it acknowledges, and on close keeps every
 * balance it wrote. */
function replicatedOpener(servers: readonly string[], name: string, written: Written): OpenTarget {
  return async (options) => {
    await mkdir(options.dir, { recursive: true });
    const ledger = await Ledger.open({
      dir: options.dir,
      shards: options.shards,
      replication: { servers, name },
    });
    written.shards = options.shards;
    const inner = ledgerTarget(ledger);
    const accountIds: string[] = [];
    const counted: LedgerTarget = {
      ...inner,
      async createAccounts(accounts) {
        const results = await inner.createAccounts(accounts);
        for (const result of results)
          if (result.status === 'ok') {
            accountIds.push(result.id);
            written.events++;
          }
        return results;
      },
      async createTransfers(transfers) {
        const results = await inner.createTransfers(transfers);
        for (const result of results) if (result.status === 'ok') written.events++;
        return results;
      },
      async close() {
        for (const account of await lookupAll(ledger, accountIds))
          if (account !== undefined) written.balances.set(account.id, account);
        await inner.close();
      },
    };
    return counted;
  };
}

/** Opens a new, empty dir from the cluster's streams; times it and compares every balance. */
async function catchUp(
  servers: readonly string[],
  name: string,
  written: Written,
): Promise<CatchUp> {
  const dir = await mkdtemp(join(tmpdir(), 'shardledger-catch-up-'));
  try {
    const startedMs = performance.now();
    const ledger = await Ledger.open({ dir, replication: { servers, name } });
    const seconds = (performance.now() - startedMs) / 1000;
    try {
      const ids = [...written.balances.keys()];
      const found = await lookupAll(ledger, ids);
      found.forEach((account, index) => {
        const before = written.balances.get(ids[index] as string) as AccountBalances;
        if (
          account === undefined ||
          account.debitsPosted !== before.debitsPosted ||
          account.creditsPosted !== before.creditsPosted ||
          account.debitsPending !== before.debitsPending ||
          account.creditsPending !== before.creditsPending
        )
          throw new Error(`catch-up: account ${before.id} differs from the ledger that wrote it`);
      });
      const report = await ledger.verify();
      if (!report.ok)
        throw new Error(`catch-up: verify() found ${report.violations.length} violations`);
      return {
        events: written.events,
        seconds,
        eventsPerSecond: written.events / seconds,
        accountsCompared: ids.length,
      };
    } finally {
      await ledger.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs strict, then replicated against a local 3-node cluster, then the catch-up. */
export async function runReplicationBench(options: BenchOptions): Promise<ReplicationBenchResult> {
  const scenarioName =
    typeof options.scenario === 'string' ? options.scenario : options.scenario.name;
  if (scenarioName !== 'standard')
    throw new Error(`--durability replicated goes with standard, not ${scenarioName}`);
  const loadAverageStart = loadavg()[0] as number;
  const cluster = await startNatsCluster();
  try {
    const plain = { ...options, peers: [], scalingShards: [] };
    const strict = await runBench({ ...plain, durability: 'strict', targetName: 'strict' });
    const name = `bench-${process.pid}-${Date.now()}`;
    const written: Written = { events: 0, shards: 0, balances: new Map() };
    const replicated = await runBench({
      ...plain,
      durability: 'strict',
      targetName: 'replicated',
      openTarget: replicatedOpener(cluster.servers, name, written),
    });
    return {
      command: options.command ?? '',
      strict,
      replicated,
      ratio: replicated.tps / strict.tps,
      catchUp: await catchUp(cluster.servers, name, written),
      loadAverageStart,
      loadAverageEnd: loadavg()[0] as number,
    };
  } finally {
    await cluster.stop();
  }
}

/** The lines `shardledger bench` prints for a replicated run. */
export function replicationSummary(result: ReplicationBenchResult): string[] {
  const tps = (value: number): string => Math.round(value).toLocaleString('en-US');
  const met = (ok: boolean): string => (ok ? 'met' : 'missed');
  const { strict, replicated, catchUp: caught } = result;
  return [
    `command: ${result.command}`,
    `standard workload, ${strict.shards} shard(s), batches of ${strict.batchSize.toLocaleString('en-US')}, ` +
      `replicated to a 3-node nats-server cluster on loopback (R=3)`,
    `strict:     ${tps(strict.tps)} transfers/s, p50 ${strict.p50Ms.toFixed(1)} ms, p99 ${strict.p99Ms.toFixed(1)} ms per call`,
    `replicated: ${tps(replicated.tps)} transfers/s, p50 ${replicated.p50Ms.toFixed(1)} ms, p99 ${replicated.p99Ms.toFixed(1)} ms per call`,
    `replicated ÷ strict: ${result.ratio.toFixed(2)}x (floor ${replicatedRatioFloor}x: ` +
      `${met(result.ratio >= replicatedRatioFloor)}; target ${replicatedRatioTarget}x: ` +
      `${met(result.ratio >= replicatedRatioTarget)})`,
    `catch-up of a fresh dir from the streams: ${caught.events.toLocaleString('en-US')} events in ` +
      `${caught.seconds.toFixed(2)} s = ${tps(caught.eventsPerSecond)} events/s ` +
      `(${caught.accountsCompared.toLocaleString('en-US')} balances equal, verify() ok)`,
    `load average (1 min): ${result.loadAverageStart.toFixed(2)} at start, ${result.loadAverageEnd.toFixed(2)} at end`,
  ];
}
