// The `changes` scenario's driver (see scenarios/changes.ts): writes the standard workload into a
// fresh ledger for the duration while a following change feed that took one event stalls
// (measuring the heap it costs and the events it holds), then times that feed handing out every
// event to a consumer that only counts them.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Ledger, limits } from '@shardledger/shard-router';
import { makeWorkload, type Context } from './bench-context.js';
import type { RunResult } from './peers/peer.js';
import { changesEventsPerSecondTarget, changesStalledHeapMiBTarget } from './scenarios/changes.js';
import { transfersOf } from './workload.js';

const mib = 2 ** 20;

/** The heap in use after a full collection, so that the growth measured is what stays reachable
 * (V8's gc() made callable without a command-line flag). */
function heapUsedBytes(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed;
}

export async function runChanges(ctx: Context): Promise<RunResult> {
  const dir = join(ctx.base, 'changes-ledger');
  await mkdir(dir);
  const ledger = await Ledger.open({ dir, shards: ctx.shards, durability: ctx.durability });
  try {
    const workload = makeWorkload(ctx, {
      shardOf: (id) => ledger.shardOf(id),
      crossShardRatio: ctx.scenario.crossShardRatio,
      runId: String(ctx.seed),
    });
    const accounts = workload.accountIds.map((id) => ({ id, currency: workload.currency }));
    for (let from = 0; from < accounts.length; from += limits.batchSizeMax)
      await ledger.createAccounts(accounts.slice(from, from + limits.batchSizeMax));
    const feed = ledger.changes({ follow: true });
    await feed.next();
    const heapBefore = heapUsedBytes();
    let written = 0;
    let heldMax = 0;
    const writeStartMs = performance.now();
    for (let index = 0; performance.now() - writeStartMs < ctx.durationMs; index += 1) {
      if (index >= workload.batchCount) break;
      const results = await ledger.createTransfers(transfersOf(workload, workload.batch(index)));
      written += results.length;
      heldMax = Math.max(heldMax, feed.heldEvents);
    }
    const writeS = (performance.now() - writeStartMs) / 1000;
    const heapGrowthMiB = (heapUsedBytes() - heapBefore) / mib;
    const info = await ledger.info();
    const total = info.shardInfo.reduce((sum, shard) => sum + shard.lastSequence, 0);
    if (ctx.options.progress !== false)
      process.stderr.write(`changes      reading ${total.toLocaleString('en-US')} events...\n`);
    const readStartMs = performance.now();
    let events = 1;
    if (events < total) {
      for await (const _change of feed) {
        events += 1;
        if (events === total) break;
      }
    }
    const readMs = performance.now() - readStartMs;
    const eventsPerSecond = events / (readMs / 1000);
    return {
      name: ctx.name,
      method: [
        `${written.toLocaleString('en-US')} transfers written in ${writeS.toFixed(1)} s (${Math.round(written / writeS).toLocaleString('en-US')}/s) with a following feed stalled after one event: heap +${heapGrowthMiB.toFixed(1)} MiB (target < ${changesStalledHeapMiBTarget}), at most ${heldMax.toLocaleString('en-US')} events held`,
        `then the feed handed out ${events.toLocaleString('en-US')} events in ${readMs.toFixed(0)} ms to an in-process consumer: tps = events/s (target ${changesEventsPerSecondTarget.toLocaleString('en-US')}); latency columns = the whole read (one sample)`,
      ].join('; '),
      checks: null,
      transfers: events,
      warmupTransfers: 0,
      durationS: readMs / 1000,
      tps: eventsPerSecond,
      latency: {
        count: 1,
        p50Ms: readMs,
        p99Ms: readMs,
        p999Ms: readMs,
        maxMs: readMs,
        meanMs: readMs,
      },
      tpsPerSecond: [],
      exhausted: false,
    };
  } finally {
    await ledger.close();
  }
}
