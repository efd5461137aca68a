// `shardledger bench payments`: hands over to the payments package's bench (in-process
// payments/s, HTTP balance_transfer requests/s with p50/p99, webhook deliveries/s).
import { writeFile } from 'node:fs/promises';
import { shardCountDefault } from '@shardledger/shard-router/internals';
import { parseCount, print, printJson } from '../context.js';
import { usageError } from '../errors.js';

export interface PaymentsBenchCommandOptions {
  readonly duration: string;
  readonly warmup: string;
  readonly shards?: string;
  readonly durability: string;
  readonly inFlight?: string;
  readonly connections?: string;
  readonly only?: string;
  readonly json?: string | boolean;
  readonly quiet: boolean;
}

export const paymentsScenarioHelp = `
  payments      the payments service: in-process payments/s (3 orders each, authorised and
                captured), HTTP balance_transfer requests/s with p50/p99 from a second process
                keeping --connections connections, webhook deliveries/s (--only picks some)`;

function milliseconds(text: string, what: string): number {
  if (!/^[0-9]+(\.[0-9]{1,3})?$/.test(text))
    throw usageError(`${what} wants seconds (10 or 0.5), got '${text}'`);
  return Math.round(Number(text) * 1000);
}

export async function runPaymentsBenchAction(options: PaymentsBenchCommandOptions): Promise<void> {
  const bench = await import('@shardledger/payments/internals');
  const durability = options.durability;
  if (durability !== 'strict' && durability !== 'relaxed')
    throw usageError(`--durability must be strict or relaxed, got '${durability}'`);
  const names = bench.paymentsBenchScenarios as readonly string[];
  const scenarios = (options.only ?? names.join(',')).split(',').map((name) => {
    if (!names.includes(name)) throw usageError(`--only: unknown '${name}' (${names.join(', ')})`);
    return name as (typeof bench.paymentsBenchScenarios)[number];
  });
  const count = (text: string | undefined, what: string, fallback: number) =>
    text === undefined ? fallback : parseCount(text, what);
  const result = await bench.runPaymentsBench({
    scenarios,
    durationMs: milliseconds(options.duration, '--duration'),
    warmupMs: milliseconds(options.warmup, '--warmup'),
    durability,
    shards: count(options.shards, '--shards', shardCountDefault),
    inFlight: count(options.inFlight, '--in-flight', 256),
    connections: count(options.connections, '--connections', 64),
    webhookMessages: 100_000,
    command: ['shardledger', ...process.argv.slice(2)].join(' '),
    progress: (line) => {
      if (!options.quiet) process.stderr.write(`${line}\n`);
    },
  });
  if (options.json === true) printJson(result);
  else print(`\n${bench.paymentsBenchReport(result)}\n`);
  if (typeof options.json === 'string')
    await writeFile(options.json, `${JSON.stringify(result, null, 2)}\n`);
}
