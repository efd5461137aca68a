// `shardledger bench [scenario]`: the benchmark harness of @shardledger/bench, the ledger against
// its peers (SQLite, PostgreSQL, memory and LMDB limits) on one generated workload.

import type { Command } from 'commander';
import type { PeerName } from '@shardledger/bench';
import { shardCountDefault } from '@shardledger/shard-router/internals';
import { examples, parseCount, print, printJson } from '../context.js';
import { usageError } from '../errors.js';
import { paymentsScenarioHelp, runPaymentsBenchAction } from './bench-payments.js';
import { reconcileHelp, reconcileScenario, runReconcileBench } from './bench-reconcile.js';

// The harness (and its peers' drivers and chart renderer) loads only when `bench` runs: it would
// otherwise add a second to the start of every command.
type BenchModule = typeof import('@shardledger/bench');

/** Shown in --help; checked against the harness's own list when the command runs. */
const peerNamesShown =
  'sqlite,sqlite-insert,postgres,postgres-per-transfer,memory-limit,lmdb-limit';

interface BenchCommandOptions {
  readonly duration: string;
  readonly warmup: string;
  readonly shards?: string;
  readonly durability: string;
  readonly crossShard?: string;
  readonly pairs?: string;
  readonly ids?: string;
  readonly seed: string;
  readonly transfers?: string;
  readonly batchSize?: string;
  readonly peers?: string;
  readonly target: boolean;
  readonly scaling?: string;
  readonly pgUrl?: string;
  readonly pgConnections?: string;
  readonly json?: string | boolean;
  readonly report?: string;
  readonly docs?: string;
  readonly withReadModel?: boolean;
  readonly rounds?: string;
  readonly inFlight?: string;
  readonly connections?: string;
  readonly only?: string;
  readonly quiet: boolean;
  readonly lines?: string;
  readonly threads?: string;
}

export const scenarioNames = [
  'standard',
  'single-calls',
  'cross-shard',
  'hot',
  'accounts-1m',
  'read-model',
  'engine',
  'changes',
] as const;

/** One line per scenario for --help, in words for a newcomer (the harness's own list, with each
 * scenario's parameters, is `node packages/bench/dist/peers-main.js --help`; it is not loaded here,
 * see BenchModule). */
export const scenarioHelp = `
Scenarios:
  standard      what applications send: 10,000 accounts, both accounts of a transfer drawn from
                all accounts, random UUIDv4 ids, batches of 8,190: the ledger vs its peers,
                and the ledger on 1, 2, 4 and CPU-count shards
  single-calls  512 concurrent callers, one transfer per call: throughput and p50/p99 per call
  cross-shard   pairs on one shard except a share across shards (sagas): 0%, 10%, 50%, 100%
  hot           a few accounts pay most of the transfers (Zipf-skewed debit accounts)
  accounts-1m   1,000,000 accounts: a working set larger than the CPU caches
  read-model    what the read model costs the write path, and how far its projection lags
  engine        one shard's storage engine alone (no router, no worker threads), durable, in
                rounds with the LMDB append limit and SQLite, against the one-shard goals
  changes       the change feed: its memory while a consumer stalls during a write run, then
                how fast it hands every event to an in-process consumer`;

/** Seconds as text ("10", "0.5") to ms, without floats near money (these are durations). */
function secondsToMs(text: string, what: string): number {
  if (!/^[0-9]+(\.[0-9]{1,3})?$/.test(text))
    throw usageError(`${what} wants seconds (10 or 0.5), got '${text}'`);
  return Math.round(Number(text) * 1000);
}

function ratio(text: string): number {
  if (!/^(0(\.[0-9]+)?|1(\.0+)?)$/.test(text))
    throw usageError(`--cross-shard wants a ratio from 0 to 1, got '${text}'`);
  return Number(text);
}

function parsePeers(list: string | undefined, peerNames: readonly PeerName[]): PeerName[] {
  if (list === undefined) return [...peerNames];
  if (list === '' || list === 'none') return [];
  return list.split(',').map((name) => {
    if (!(peerNames as readonly string[]).includes(name))
      throw usageError(`unknown peer '${name}' (${peerNames.join(', ')}, or none)`);
    return name as PeerName;
  });
}

export function registerBench(program: Command): void {
  const command = program
    .command('bench')
    .description(
      'benchmark the ledger against its peers; prints the results table (progress on stderr)',
    )
    .argument(
      '[scenario]',
      `${[...scenarioNames, reconcileScenario].join(' | ')} | payments`,
      'standard',
    );
  addBenchOptions(command);
  command.addHelpText('after', scenarioHelp);
  // The payments bench is the payments package's own, not a scenario of the ledger's harness.
  command.addHelpText('after', paymentsScenarioHelp);
  command.addHelpText('after', reconcileHelp);
  command.addHelpText('after', examples(benchExamples));
  command.action(runBenchAction);
}

const benchExamples = [
  'shardledger bench                                   # standard, 10 s per runner, every peer',
  'shardledger bench standard --duration 30 --report bench-report',
  'shardledger bench cross-shard --cross-shard 0.5 --peers sqlite',
  'shardledger bench standard --pairs co-located --ids ordered   # the friendliest case, named as such',
  'shardledger bench hot --durability relaxed --json result.json',
  'shardledger bench --peers none --scaling 1,2,4 --json | jq .tps',
  "shardledger bench engine --rounds 3                 # one shard's engine alone vs LMDB and SQLite",
  'shardledger bench payments --connections 64         # payments/s, balance_transfer req/s, webhooks/s',
];

function addBenchOptions(command: Command): void {
  command
    .option(
      '--duration <s>',
      'measured window per runner, seconds (peers cap theirs: SQLite and sqlite-insert 5, PostgreSQL 3, the limits 2)',
      '10',
    )
    .option('--warmup <s>', 'warm-up per runner, seconds', '1')
    .option(
      '--shards <n>',
      `shards (default: ${shardCountDefault}, the ledger's own; cross-shard: 2; engine: always 1)`,
    )
    .option('--durability <mode>', 'strict | relaxed', 'strict')
    .option(
      '--cross-shard <ratio>',
      'cross-shard scenario: run only this ratio, 0 to 1 (default: the sweep 0, 0.1, 0.5, 1)',
    )
    .option(
      '--pairs <kind>',
      'uniform (default: both accounts drawn from all accounts, crossing shards wherever hashing puts them) | co-located (both on one shard)',
    )
    .option(
      '--ids <kind>',
      "uuidv4 (default: random, what payment services send) | prefixed ('payment-' + a random UUIDv4) | uuidv7 | ordered",
    )
    .option('--seed <n>', 'workload seed', '42')
    .option('--transfers <n>', 'pre-generated transfers (default: from the duration)')
    .option('--batch-size <n>', 'transfers per createTransfers call (default 8190)')
    .option('--peers <list>', `comma-separated: ${peerNamesShown}, or none (default all)`)
    .option('--no-target', 'run the peers only, not the ledger')
    .option(
      '--scaling <list>',
      'also run the ledger with these shard counts, e.g. 1,2,4,8, or none (standard: 1,2,4 and the CPU count unless given)',
    )
    .option('--pg-url <url>', 'use this PostgreSQL instead of starting a throw-away server')
    .option('--pg-connections <n>', 'PostgreSQL client connections (default 16)')
    .option('--json [file]', 'write the result as JSON to FILE, or to stdout without one')
    .option('--report <dir>', 'write report.md, result.json and SVG charts to DIR')
    .option(
      '--docs <files>',
      'regenerate the generated figures in each FILE, comma-separated (docs/benchmarks.md,README.md)',
    )
    .option(
      '--with-read-model',
      'standard --with-read-model is the read-model scenario: write throughput without and with the read model, and its lag',
    )
    .option(
      '--rounds <n>',
      'read-model: pairs of runs without and with the read model (default 5); engine: rounds of engine, lmdb-limit and sqlite (default 3)',
    )
    .option('--in-flight <n>', 'calls in flight (default 2 per shard; engine 3; payments 256)')
    .option('--connections <n>', 'payments: HTTP keep-alive connections of the load (default 64)')
    .option('--only <list>', 'payments: in-process,http,webhooks (default all three)')
    .option('-q, --quiet', 'no progress lines', false)
    .option('--lines <n>', 'reconcile: settlement lines, and ledger transfers (default 1000000)')
    .option(
      '--threads <n>',
      'reconcile: threads of the pool run (default: the CPU count, 2 at least)',
    );
}

/** Which scenario runs: the read-model, engine and changes scenarios get their own peers and
 * figures. */
interface ScenarioKinds {
  readonly readModel: boolean;
  readonly engine: boolean;
  readonly changes: boolean;
}

type BenchRunOptions = Parameters<BenchModule['runBench']>[0];
type BenchResult = Awaited<ReturnType<BenchModule['runBench']>>;

async function runBenchAction(scenarioName: string, options: BenchCommandOptions): Promise<void> {
  if (scenarioName === 'payments') return runPaymentsBenchAction(options);
  if (scenarioName === reconcileScenario) return runReconcileBench(options);
  const durability = checkScenarioFlags(scenarioName, options);
  const bench: BenchModule = await import('@shardledger/bench');
  const kinds: ScenarioKinds = {
    readModel: options.withReadModel === true || scenarioName === 'read-model',
    engine: scenarioName === 'engine',
    changes: scenarioName === 'changes',
  };
  if (kinds.engine && !options.target)
    throw usageError('engine measures the storage engine: --no-target has nothing to run');
  if (kinds.engine && options.shards !== undefined && options.shards !== '1')
    throw usageError(`engine runs one shard, got --shards ${options.shards}`);
  if (
    scenarioName === 'cross-shard' &&
    options.shards !== undefined &&
    parseCount(options.shards, '--shards') < 2
  )
    throw usageError(
      `cross-shard needs two shards or more (its default), got --shards ${options.shards}`,
    );
  const peers = peersOf(options, kinds, bench.peerNames);
  const crossShardRatio = options.crossShard === undefined ? undefined : ratio(options.crossShard);
  const scenario = scenarioOf(bench, scenarioName, options, { kinds, crossShardRatio });
  const result = await bench.runBench({
    scenario,
    durability,
    ...runOptionsOf(bench, options, { engine: kinds.engine, peers, crossShardRatio }),
  });
  await printResult(bench, result, options, kinds);
}

/** The checks that need no harness: the scenario's name, --with-read-model and --durability. */
function checkScenarioFlags(
  scenarioName: string,
  options: BenchCommandOptions,
): 'strict' | 'relaxed' {
  if (!(scenarioNames as readonly string[]).includes(scenarioName))
    throw usageError(`unknown scenario '${scenarioName}' (${scenarioNames.join(', ')})`);
  if (
    options.withReadModel === true &&
    scenarioName !== 'standard' &&
    scenarioName !== 'read-model'
  )
    throw usageError(`--with-read-model goes with standard, not ${scenarioName}`);
  const durability = options.durability;
  if (durability !== 'strict' && durability !== 'relaxed')
    throw usageError(`--durability must be strict or relaxed, got '${durability}'`);
  return durability;
}

/** The peers to run (undefined: the scenario's own), checked against the scenario. */
function peersOf(
  options: BenchCommandOptions,
  kinds: ScenarioKinds,
  peerNames: readonly PeerName[],
): PeerName[] | undefined {
  // The read-model scenario compares the ledger with itself: no peers unless asked for. The
  // engine scenario has its own peers (lmdb-limit, sqlite, memory-limit) unless asked for; the
  // changes scenario has none (the harness runs none for it).
  const peers =
    options.peers === undefined && kinds.readModel
      ? []
      : options.peers === undefined && (kinds.engine || kinds.changes)
        ? undefined
        : parsePeers(options.peers, peerNames);
  if (kinds.engine && peers?.some((peer) => peer.startsWith('postgres')) === true)
    throw usageError('engine: its peers are lmdb-limit, sqlite and memory-limit');
  if (!options.target && peers?.length === 0)
    throw usageError('nothing to run: --no-target with --peers none');
  return peers;
}

/** The scenario with the --cross-shard, --pairs and --ids choices, each checked against it. */
function scenarioOf(
  bench: BenchModule,
  scenarioName: string,
  options: BenchCommandOptions,
  spec: { kinds: ScenarioKinds; crossShardRatio: number | undefined },
): BenchRunOptions['scenario'] {
  const { crossShardRatio } = spec;
  if (crossShardRatio !== undefined && scenarioName !== 'cross-shard')
    throw usageError(`--cross-shard goes with the cross-shard scenario, not ${scenarioName}`);
  const pairs = options.pairs;
  if (pairs !== undefined && pairs !== 'uniform' && pairs !== 'co-located')
    throw usageError(`--pairs must be uniform or co-located, got '${pairs}'`);
  const ids = options.ids;
  if (ids !== undefined && !bench.isIdKind(ids))
    throw usageError(`--ids must be ${bench.idKinds.join(', ')}, got '${ids}'`);
  if (pairs === 'uniform' && scenarioName === 'cross-shard')
    throw usageError(
      'cross-shard sets its own share of cross-shard pairs: --pairs uniform does not apply',
    );
  return bench.scenarioNamed(spec.kinds.readModel ? 'read-model' : scenarioName, {
    ...(crossShardRatio === undefined ? {} : { crossShardRatio }),
    ...(pairs === undefined ? {} : { pairs }),
    ...(ids === undefined ? {} : { ids }),
  });
}

/** runBench's options from the command line, past the scenario and durability; counts are
 * checked in the order they are read. */
function runOptionsOf(
  bench: BenchModule,
  options: BenchCommandOptions,
  spec: { engine: boolean; peers: PeerName[] | undefined; crossShardRatio: number | undefined },
): Omit<BenchRunOptions, 'scenario' | 'durability'> {
  const { engine, peers, crossShardRatio } = spec;
  const count = (text: string | undefined, what: string): number | undefined =>
    text === undefined ? undefined : parseCount(text, what);
  const optional = <K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> =>
    value === undefined ? {} : ({ [key]: value } as Record<K, V>);
  const pgConnections = count(options.pgConnections, '--pg-connections');
  return {
    durationMs: secondsToMs(options.duration, '--duration'),
    warmupMs: secondsToMs(options.warmup, '--warmup'),
    ...(engine ? {} : optional('shards', count(options.shards, '--shards'))),
    seed: parseCount(options.seed, '--seed', { min: 0 }),
    ...optional('transfers', count(options.transfers, '--transfers')),
    ...optional('batchSize', count(options.batchSize, '--batch-size')),
    ...optional(engine ? 'engineRounds' : 'readModelRounds', count(options.rounds, '--rounds')),
    ...optional('targetConcurrency', count(options.inFlight, '--in-flight')),
    ...optional('crossShardRatios', crossShardRatio === undefined ? undefined : [crossShardRatio]),
    ...optional('peers', peers),
    ...(options.target ? { openTarget: bench.openShardledger, targetName: 'shardledger' } : {}),
    ...optional(
      'scalingShards',
      options.scaling === 'none'
        ? []
        : options.scaling?.split(',').map((text) => parseCount(text, '--scaling')),
    ),
    postgres: { ...optional('pgUrl', options.pgUrl), ...optional('connections', pgConnections) },
    progress: !options.quiet,
    command: ['shardledger', ...process.argv.slice(2)].join(' '),
  };
}

/** The table (or the JSON on stdout), then the files asked for: --json FILE, --report, --docs. */
async function printResult(
  bench: BenchModule,
  result: BenchResult,
  options: BenchCommandOptions,
  kinds: ScenarioKinds,
): Promise<void> {
  if (options.json === true) printJson(result);
  // The read-model and engine scenarios' figures (against their targets) follow the table.
  else
    print(
      `\n${[bench.resultsTable(result), ...(kinds.readModel || kinds.engine ? bench.sweepSections(result) : [])].join('\n\n')}\n`,
    );
  if (typeof options.json === 'string') await bench.writeJsonResult(options.json, result);
  if (options.report !== undefined)
    process.stderr.write(
      `report: ${(await bench.writeReport(options.report, result)).join(', ')}\n`,
    );
  // --docs takes one file or a comma-separated list (docs/benchmarks.md,README.md).
  if (options.docs !== undefined)
    for (const file of options.docs.split(',')) await bench.updateDocsFile(file, result);
}
