// Runnable entry: `node packages/bench/dist/peers-main.js --duration 10 [--target shardledger]`.
// Runs a scenario on the peers (and on the ledger with --target), prints the table, and writes
// --json FILE, --report DIR and --docs FILE (the generated section of docs/benchmarks.md).

import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { updateDocsFile } from './docs-section.js';
import { resultsTable, writeJsonResult, writeReport } from './report.js';
import { peerNames, runBench, type PeerName } from './run-bench.js';
import { scenarioNamed } from './scenarios/index.js';
import type { OpenTarget } from './target.js';

const usage = `usage: peers-main [scenario] [options]
  scenario            standard (default) | cross-shard | hot | accounts-1m
  --duration S        measured window per runner, seconds (default 10; PostgreSQL capped at 5)
  --warmup S          warm-up per runner, seconds (default 1)
  --shards N          shards (default: CPU count)
  --durability D      strict (default) | relaxed
  --cross-shard R     cross-shard ratio for the cross-shard scenario (default 0.1)
  --seed N            workload seed (default 42)
  --transfers N       pre-generated transfers (default: from the duration)
  --peers LIST        comma-separated: ${peerNames.join(',')} (default all)
  --target NAME       also run the ledger: shardledger (needs src/targets/shardledger.ts)
  --scaling LIST      with --target: shard counts for the scaling chart, e.g. 1,2,4,8
  --pg-url URL        use this PostgreSQL instead of starting a throw-away server
  --pg-connections N  PostgreSQL client connections (default 16)
  --json FILE         write the result as JSON
  --report DIR        write report.md, result.json and SVG charts
  --docs FILE         regenerate the results section of FILE (docs/benchmarks.md)
  --quiet             no progress line`;

async function loadTarget(name: string): Promise<OpenTarget> {
  if (name !== 'shardledger') throw new Error(`unknown target '${name}'`);
  const module = (await import(new URL('./targets/shardledger.js', import.meta.url).href)) as { openShardledger: OpenTarget };
  return module.openShardledger;
}

function parsePeers(list: string | undefined): PeerName[] {
  if (list === undefined) return [...peerNames];
  return list.split(',').map((name) => {
    if (!(peerNames as readonly string[]).includes(name)) throw new Error(`unknown peer '${name}' (${peerNames.join(', ')})`);
    return name as PeerName;
  });
}

function positiveNumber(text: string | undefined, fallback: number, what: string): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!(value >= 0) || !Number.isFinite(value)) throw new Error(`${what} must be a number >= 0, got '${text}'`);
  return value;
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      duration: { type: 'string' }, warmup: { type: 'string' }, shards: { type: 'string' }, durability: { type: 'string' },
      'cross-shard': { type: 'string' }, seed: { type: 'string' }, transfers: { type: 'string' }, peers: { type: 'string' },
      target: { type: 'string' }, scaling: { type: 'string' }, 'pg-url': { type: 'string' }, 'pg-connections': { type: 'string' },
      json: { type: 'string' }, report: { type: 'string' }, docs: { type: 'string' }, quiet: { type: 'boolean' }, help: { type: 'boolean' },
    },
  });
  if (values.help === true) return void console.log(usage);
  const durability = values.durability ?? 'strict';
  if (durability !== 'strict' && durability !== 'relaxed') throw new Error(`durability must be strict or relaxed, got '${durability}'`);
  const crossShard = positiveNumber(values['cross-shard'], 0.1, '--cross-shard');
  const scenario = scenarioNamed(positionals[0] ?? 'standard', { crossShardRatio: crossShard });
  const transfers = values.transfers === undefined ? undefined : positiveNumber(values.transfers, 0, '--transfers');
  const pgConnections = values['pg-connections'] === undefined ? undefined : positiveNumber(values['pg-connections'], 16, '--pg-connections');
  const result = await runBench({
    scenario,
    durationMs: positiveNumber(values.duration, 10, '--duration') * 1000,
    warmupMs: positiveNumber(values.warmup, 1, '--warmup') * 1000,
    shards: positiveNumber(values.shards, availableParallelism(), '--shards'),
    durability,
    seed: positiveNumber(values.seed, 42, '--seed'),
    ...(transfers === undefined ? {} : { transfers }),
    peers: parsePeers(values.peers),
    ...(values.target === undefined ? {} : { openTarget: await loadTarget(values.target), targetName: values.target }),
    ...(values.scaling === undefined ? {} : { scalingShards: values.scaling.split(',').map((text) => positiveNumber(text, 1, '--scaling')) }),
    postgres: { ...(values['pg-url'] === undefined ? {} : { pgUrl: values['pg-url'] }), ...(pgConnections === undefined ? {} : { connections: pgConnections }) },
    progress: values.quiet !== true,
    command: `node packages/bench/dist/peers-main.js ${argv.join(' ')}`.trim(),
  });
  console.log(`\n${resultsTable(result)}\n`);
  if (values.json !== undefined) await writeJsonResult(values.json, result);
  if (values.report !== undefined) console.log(`report: ${(await writeReport(values.report, result)).join(', ')}`);
  if (values.docs !== undefined) await updateDocsFile(values.docs, result);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  console.error(usage.split('\n')[0]);
  process.exitCode = 1;
});
