// `shardledger bench payments`: the three payments figures in one run, with the machine they
// were measured on. Each scenario gets a fresh ledger and store in a temp dir.
import { cpus, loadavg } from 'node:os';
import { figuresTable, type BenchFigure } from './figures.js';
import { runHttpBalanceTransfer } from './http-run.js';
import { runInProcessPayments } from './payments-run.js';
import { runWebhookDeliveries } from './webhooks-run.js';

export const paymentsBenchScenarios = ['in-process', 'http', 'webhooks'] as const;
export type PaymentsBenchScenario = (typeof paymentsBenchScenarios)[number];

export interface PaymentsBenchOptions {
  readonly scenarios: readonly PaymentsBenchScenario[];
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly durability: 'strict' | 'relaxed';
  readonly shards: number;
  /** In-process payments kept in flight. */
  readonly inFlight: number;
  /** HTTP keep-alive connections. */
  readonly connections: number;
  readonly webhookMessages: number;
  /** The command line, printed with the figures. */
  readonly command: string;
  readonly progress: (line: string) => void;
}

export interface PaymentsBenchResult {
  readonly command: string;
  readonly node: string;
  readonly cpuCount: number;
  readonly cpuModel: string;
  /** The 1, 5 and 15 minute load averages, before and after the run. */
  readonly loadAverageBefore: readonly number[];
  readonly loadAverageAfter: readonly number[];
  readonly startedAt: string;
  readonly figures: readonly BenchFigure[];
}

export async function runPaymentsBench(
  options: PaymentsBenchOptions,
): Promise<PaymentsBenchResult> {
  const loadAverageBefore = loadavg();
  const startedAt = new Date().toISOString();
  const figures: BenchFigure[] = [];
  const { durationMs, warmupMs, durability, shards } = options;
  for (const scenario of options.scenarios) {
    options.progress(`bench payments: ${scenario}...`);
    if (scenario === 'in-process')
      figures.push(
        await runInProcessPayments({
          durationMs,
          warmupMs,
          durability,
          shards,
          inFlight: options.inFlight,
        }),
      );
    else if (scenario === 'http')
      figures.push(
        await runHttpBalanceTransfer({
          durationMs,
          warmupMs,
          durability,
          shards,
          connections: options.connections,
        }),
      );
    else
      figures.push(await runWebhookDeliveries({ durationMs, messages: options.webhookMessages }));
  }
  return {
    command: options.command,
    node: process.version,
    cpuCount: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    loadAverageBefore,
    loadAverageAfter: loadavg(),
    startedAt,
    figures,
  };
}

/** The result as Markdown: the machine, the command, the table. */
export function paymentsBenchReport(result: PaymentsBenchResult): string {
  const load = (values: readonly number[]) => values.map((value) => value.toFixed(2)).join(', ');
  return [
    `- command: \`${result.command}\``,
    `- machine: ${result.cpuCount} CPU(s), ${result.cpuModel}, Node ${result.node}; started ${result.startedAt}`,
    `- load average (1, 5, 15 min): ${load(result.loadAverageBefore)} before, ${load(result.loadAverageAfter)} after`,
    '',
    figuresTable(result.figures),
  ].join('\n');
}
