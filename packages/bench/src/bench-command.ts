// The command line of the bench, shared by `shardledger bench` (packages/cli) and
// `node packages/bench/dist/peers-main.js`: parse, run, print the table, write the outputs.

import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { shardCountDefault } from '@shardledger/shard-router/internals';
import { updateDocsFile } from './docs-section.js';
import { resultsTable, summaryLines, writeJsonResult, writeReport } from './report.js';
import type { BenchResult } from './result.js';
import { benchDefaults, peerNames, type BenchOptions, type PeerName } from './bench-options.js';
import { replicationSummary, runReplicationBench } from './replication-run.js';
import { runBench } from './run-bench.js';
import { scenarioNamed, scenarios, type Scenario } from './scenarios/index.js';
import { idKinds, isIdKind } from './transfer-ids.js';
import { pairKinds, type PairKind } from './workload.js';

const scenarioHelp = scenarios
  .map((scenario) =>
    [
      `  ${scenario.name.padEnd(12)} ${scenario.description}`,
      ...scenario.parameters.map((line) => `  ${''.padEnd(12)}   ${line}`),
    ].join('\n'),
  )
  .join('\n');

export const benchUsage = `usage: bench [scenario] [options]

scenarios (default standard):
${scenarioHelp}

options:
  --duration S           ledger's measured window, seconds (default ${benchDefaults.durationMs / 1000}); peers cap theirs:
                         SQLite and sqlite-insert 5, PostgreSQL 3, memory-limit and lmdb-limit 2
  --warmup S             warm-up before each window, seconds (default ${benchDefaults.warmupMs / 1000})
  --shards N             shards (default ${shardCountDefault}, the ledger default; engine: always 1)
  --durability D         strict (default: every call resolves after fsync) | relaxed |
                         replicated (standard only: strict and replicated in the same run, against
                         a 3-node nats-server cluster the bench starts on loopback, then the
                         catch-up of a fresh dir from the streams; needs nats-server on PATH)
  --batch-size N         transfers per call (default 8190; 512 for latency)
  --seed N               workload seed (default ${benchDefaults.seed})
  --transfers N          cap on the transfers a runner may send (default: open-ended)
  --pairs P              uniform (default: both accounts from all accounts, crossing shards
                         wherever hashing puts them) | co-located (both on one shard)
  --ids K                uuidv4 (default: random, what payment services send) | prefixed
                         ('payment-' + a random UUIDv4) | uuidv7 | ordered
  --cross-shard-ratio R  cross-shard: run only this ratio instead of the 0,0.1,0.5,1 sweep
  --scaling LIST         scaling: shard counts (default 1,2,4,8); other scenarios: extra
                         short runs (3 s) for the scaling chart (standard: 1,2,4 and the CPU
                         count unless given; none: no extra runs)
  --rate N               latency, read-model: offered transfers/s (default half the measured peak)
  --events N             recovery: acknowledged transfers in the log before the kill
  --rounds N             read-model: pairs of runs without and with the read model (default 5);
                         engine: rounds of engine, lmdb-limit and sqlite (default 3)
  --in-flight N          calls in flight (default 2 per shard; engine 3)
  --with-read-model      standard --with-read-model is the read-model scenario
  --peers LIST           comma-separated: ${peerNames.join(',')}, or none (default all)
  --no-ledger            peers only (the first peer becomes the subject of the ratios)
  --pg-url URL           use this PostgreSQL instead of starting a throw-away server
  --pg-connections N     PostgreSQL client connections (default 16)
  --json FILE            write the result as JSON
  --report DIR           write report.md, result.json and SVG charts
  --docs FILE[,FILE]     regenerate the results section of each FILE (docs/benchmarks.md,README.md)
  --quiet                no progress line
A run whose ledger loses or invents money (or whose verify() is not clean) fails with exit code 1.`;

function parsePeers(list: string | undefined): PeerName[] | undefined {
  if (list === undefined) return undefined;
  if (list === 'none' || list === '') return [];
  return list.split(',').map((name) => {
    if (!(peerNames as readonly string[]).includes(name))
      throw new Error(`unknown peer '${name}' (${peerNames.join(', ')}, none)`);
    return name as PeerName;
  });
}

function numberOption(
  text: string | undefined,
  what: string,
  check: { integer?: boolean; min?: number; max?: number } = {},
): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  const min = check.min ?? 0;
  if (
    !Number.isFinite(value) ||
    value < min ||
    (check.max !== undefined && value > check.max) ||
    (check.integer === true && !Number.isInteger(value))
  ) {
    throw new Error(
      `${what} must be ${check.integer === true ? 'an integer' : 'a number'} >= ${min}${check.max === undefined ? '' : ` and <= ${check.max}`}, got '${text}'`,
    );
  }
  return value;
}

/** The bench's command-line options, as `node:util` parseArgs takes them. */
const benchArgOptions = {
  duration: { type: 'string' },
  warmup: { type: 'string' },
  shards: { type: 'string' },
  durability: { type: 'string' },
  'batch-size': { type: 'string' },
  'cross-shard-ratio': { type: 'string' },
  pairs: { type: 'string' },
  ids: { type: 'string' },
  seed: { type: 'string' },
  transfers: { type: 'string' },
  peers: { type: 'string' },
  'no-ledger': { type: 'boolean' },
  scaling: { type: 'string' },
  rate: { type: 'string' },
  events: { type: 'string' },
  'pg-url': { type: 'string' },
  'pg-connections': { type: 'string' },
  rounds: { type: 'string' },
  'with-read-model': { type: 'boolean' },
  'in-flight': { type: 'string' },
  json: { type: 'string' },
  report: { type: 'string' },
  docs: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type BenchArgValues = ReturnType<typeof parseArgs<{ options: typeof benchArgOptions }>>['values'];

/** The scenario the positional names (or --with-read-model picks), with the --cross-shard-ratio,
 * --pairs and --ids choices applied. */
function scenarioOf(
  values: BenchArgValues,
  positionals: readonly string[],
  ratio: number | undefined,
): Scenario {
  const named = positionals[0] ?? 'standard';
  if (values['with-read-model'] === true && named !== 'standard' && named !== 'read-model')
    throw new Error(`--with-read-model goes with standard, not ${named}`);
  const pairs = values.pairs;
  if (pairs !== undefined && !(pairKinds as readonly string[]).includes(pairs))
    throw new Error(`--pairs must be ${pairKinds.join(' or ')}, got '${pairs}'`);
  const ids = values.ids;
  if (ids !== undefined && !isIdKind(ids))
    throw new Error(`--ids must be ${idKinds.join(', ')}, got '${ids}'`);
  const choices = {
    ...(ratio === undefined ? {} : { crossShardRatio: ratio }),
    ...(pairs === undefined ? {} : { pairs: pairs as PairKind }),
    ...(ids === undefined ? {} : { ids }),
  };
  return scenarioNamed(values['with-read-model'] === true ? 'read-model' : named, choices);
}

/** The numeric and list options that were given, checked; those not given are left out, so that
 * runBench applies its defaults. */
function givenOptions(values: BenchArgValues, ratio: number | undefined): Partial<BenchOptions> {
  const seconds = (text: string | undefined, what: string): number | undefined => {
    const value = numberOption(text, what);
    return value === undefined ? undefined : value * 1000;
  };
  const optional = {
    durationMs: seconds(values.duration, '--duration'),
    warmupMs: seconds(values.warmup, '--warmup'),
    shards: numberOption(values.shards, '--shards', { integer: true, min: 1 }),
    batchSize: numberOption(values['batch-size'], '--batch-size', { integer: true, min: 1 }),
    seed: numberOption(values.seed, '--seed', { integer: true }),
    transfers: numberOption(values.transfers, '--transfers', { integer: true, min: 1 }),
    peers: parsePeers(values.peers),
    scalingShards:
      values.scaling === 'none'
        ? []
        : values.scaling
            ?.split(',')
            .map((text) => numberOption(text, '--scaling', { integer: true, min: 1 }) as number),
    crossShardRatios: ratio === undefined ? undefined : [ratio],
    offeredTps: numberOption(values.rate, '--rate'),
    recoveryTransfers: numberOption(values.events, '--events', { integer: true, min: 1 }),
    // Each scenario with rounds reads its own field; the other is ignored.
    readModelRounds: numberOption(values.rounds, '--rounds', { integer: true, min: 1 }),
    engineRounds: numberOption(values.rounds, '--rounds', { integer: true, min: 1 }),
    targetConcurrency: numberOption(values['in-flight'], '--in-flight', { integer: true, min: 1 }),
  };
  return Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined));
}

/** Parses the bench's arguments into runBench options plus the output paths. */
export function parseBenchArgs(
  argv: readonly string[],
  commandPrefix: string,
): {
  options: BenchOptions;
  replicated: boolean;
  json?: string;
  report?: string;
  docs?: string;
  help: boolean;
} {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: benchArgOptions,
  });
  if (positionals.length > 1)
    throw new Error(`one scenario at a time, got ${positionals.join(' ')}`);
  const durability = values.durability ?? benchDefaults.durability;
  if (durability !== 'strict' && durability !== 'relaxed' && durability !== 'replicated')
    throw new Error(`--durability must be strict, relaxed or replicated, got '${durability}'`);
  const ratio = numberOption(values['cross-shard-ratio'], '--cross-shard-ratio', { max: 1 });
  const scenario = scenarioOf(values, positionals, ratio);
  const pgConnections = numberOption(values['pg-connections'], '--pg-connections', {
    integer: true,
    min: 1,
  });
  const options: BenchOptions = {
    scenario,
    // replicated runs strict and replicated side by side (runReplicationBench).
    durability: durability === 'replicated' ? 'strict' : durability,
    ...givenOptions(values, ratio),
    ...(values['no-ledger'] === true ? { openTarget: null } : {}),
    postgres: {
      ...(values['pg-url'] === undefined ? {} : { pgUrl: values['pg-url'] }),
      ...(pgConnections === undefined ? {} : { connections: pgConnections }),
    },
    progress: values.quiet !== true,
    command: `${commandPrefix} ${argv.join(' ')}`.trim(),
  };
  return {
    options,
    help: values.help === true,
    replicated: durability === 'replicated',
    ...(values.json === undefined ? {} : { json: values.json }),
    ...(values.report === undefined ? {} : { report: values.report }),
    ...(values.docs === undefined ? {} : { docs: values.docs }),
  };
}

/** `--durability replicated`: strict and replicated side by side, then the catch-up; --json
 * writes both runs and the figures. Resolves to the replicated run. */
async function runReplicatedCommand(
  parsed: ReturnType<typeof parseBenchArgs>,
): Promise<BenchResult> {
  if (parsed.report !== undefined || parsed.docs !== undefined)
    throw new Error('--durability replicated writes --json only (not --report or --docs)');
  const result = await runReplicationBench(parsed.options);
  console.log(`\n${replicationSummary(result).join('\n')}\n`);
  if (parsed.json !== undefined) {
    await mkdir(dirname(parsed.json), { recursive: true });
    await writeFile(parsed.json, `${JSON.stringify(result, null, 2)}\n`);
  }
  return result.replicated;
}

/** Runs the bench from a command line: prints the table and summary on stdout, writes --json,
 * --report and --docs. Resolves to the result (null for --help); rejects when a run fails its
 * money checks, so callers exit non-zero. */
export async function runBenchCommand(
  argv: readonly string[],
  options: { commandPrefix?: string } = {},
): Promise<BenchResult | null> {
  const parsed = parseBenchArgs(
    argv,
    options.commandPrefix ?? 'node packages/bench/dist/peers-main.js',
  );
  if (parsed.help) {
    console.log(benchUsage);
    return null;
  }
  if (parsed.replicated) return runReplicatedCommand(parsed);
  const result = await runBench(parsed.options);
  console.log(`\n${resultsTable(result)}\n\n${summaryLines(result).join('\n')}\n`);
  if (parsed.json !== undefined) await writeJsonResult(parsed.json, result);
  if (parsed.report !== undefined)
    console.log(`report: ${(await writeReport(parsed.report, result)).join(', ')}`);
  // --docs takes one file or a comma-separated list (docs/benchmarks.md,README.md).
  if (parsed.docs !== undefined)
    for (const file of parsed.docs.split(',')) await updateDocsFile(file, result);
  return result;
}
