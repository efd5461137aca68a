// The `reconcile` bench: a settlement file of N lines (1,000,000 by default) reconciled against a
// ledger holding those transfers, matched on one thread and on a piscina pool, each in a child
// process of its own so that each reports its own peak memory. Prints one JSON object.
//   shardledger bench reconcile [--lines N] [--threads N]
//   node packages/reconciliation/dist/bench-main.js [--lines N] [--threads N] [--dir PATH]
// Times are from an open ledger (its open is reported apart); the load average of the machine is
// reported at the start and at the end, since other work on it slows every figure.
// Targets: under 30 s for 1,000,000 lines (goal 10 s) and under 500 MB peak memory, on the
// project's 2-core machine: a nightly file must reconcile well within a batch window.

import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ledger, formatAmount, type TransferInput } from '@shardledger/shard-router';
import { reconcile, reconcileLedgerOptions, type RunPhase } from './index.js';

function argument(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : (process.argv[at + 1] ?? fallback);
}

const header = 'record_id,type,payment_order_id,psp_reference,currency,gross,fee,net,settled_at';

async function setup(dir: string, lines: number): Promise<{ setupMs: number }> {
  const startedMs = Date.now();
  const ledger = await Ledger.open({ dir: join(dir, 'ledger'), shards: 1, durability: 'relaxed' });
  await ledger.createAccounts([
    { id: 'simulated-clearing-USD', currency: 'USD', history: true },
    { id: 'merchant-USD', currency: 'USD' },
  ]);
  const batch: TransferInput[] = [];
  const flush = async () => {
    const results = await ledger.createTransfers(batch.splice(0));
    const bad = results.find((result) => result.status !== 'ok' && result.status !== 'exists');
    if (bad !== undefined) throw new Error(`setup transfer ${bad.id}: ${bad.status}`);
  };
  for (let n = 0; n < lines; n += 1) {
    batch.push({
      id: `t-${String(n).padStart(8, '0')}`,
      debitAccountId: 'simulated-clearing-USD',
      creditAccountId: 'merchant-USD',
      amount: BigInt(100 + (n % 100_000)),
      currency: 'USD',
      metadata: { payment_order_id: `PO-${n}` },
    });
    if (batch.length === 8_000) await flush();
  }
  if (batch.length > 0) await flush();
  await ledger.close();
  const file = createWriteStream(join(dir, 'settlement.csv'));
  const settledAt = new Date(Date.now() + 60_000).toISOString();
  file.write(`${header}\n`);
  for (let n = 0; n < lines; n += 1) {
    const gross = BigInt(100 + (n % 100_000));
    const fee = gross / 50n;
    const row = `st_${n},capture,PO-${n},psp_${n},USD,${formatAmount(gross, 'USD')},${formatAmount(fee, 'USD')},${formatAmount(gross - fee, 'USD')},${settledAt}\n`;
    if (!file.write(row)) await new Promise<void>((resolve) => file.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve) => file.end(() => resolve()));
  return { setupMs: Date.now() - startedMs };
}

/** The resident set split as Linux reports it: anonymous memory (heaps, buffers) and file pages
 * mapped in (LMDB maps its data file, so pages the ledger reads count here, though the kernel may
 * drop them at any time). Undefined where /proc is missing. */
function residentKb(): { anonKb: number; fileKb: number } | undefined {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    return { anonKb: field('RssAnon'), fileKb: field('RssFile') };
  } catch {
    return undefined;
  }
}

/** One run in this process: prints its timings, counts and peak memory as JSON. */
async function runOnce(dir: string, threads: number): Promise<void> {
  const openedAtMs = Date.now();
  // The main thread's own heap, apart from the process's resident set (which also counts the
  // shard worker's heap and the LMDB pages the ledger maps while it is read).
  let heapPeakBytes = 0;
  let anonPeakKb = 0;
  let filePeakKb = 0;
  const sample = () => {
    heapPeakBytes = Math.max(heapPeakBytes, process.memoryUsage().heapUsed);
    const resident = residentKb();
    anonPeakKb = Math.max(anonPeakKb, resident?.anonKb ?? 0);
    filePeakKb = Math.max(filePeakKb, resident?.fileKb ?? 0);
  };
  const sampler = setInterval(sample, 100);
  const ledger = await Ledger.open({ dir: join(dir, 'ledger'), ...reconcileLedgerOptions });
  // The ledger is open before the clock starts: a reconciliation runs against a running ledger.
  const startedMs = Date.now();
  const phaseMs: Partial<Record<RunPhase, number>> = {};
  const { report } = await reconcile({
    ledger,
    file: join(dir, 'settlement.csv'),
    profile: 'simulated',
    workDir: join(dir, `runs-${threads}`),
    threads,
    onProgress: (progress) => {
      if (progress.phase !== 'bucket') phaseMs[progress.phase] = Date.now() - startedMs;
    },
  });
  const elapsedMs = Date.now() - startedMs;
  sample();
  clearInterval(sampler);
  await ledger.close();
  const cpu = process.cpuUsage();
  const result = {
    threads,
    ledgerOpenMs: startedMs - openedAtMs,
    elapsedMs,
    phaseMs,
    lines: report.settlement.lines,
    linesMatched: report.linesMatched,
    breaks: report.breaks.length,
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    peakRssAnonMb: Math.round(anonPeakKb / 1024),
    peakRssFileMb: Math.round(filePeakKb / 1024),
    mainHeapPeakMb: Math.round(heapPeakBytes / 1024 / 1024),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** The 1, 5 and 15 minute load averages. */
const roundedLoad = () => loadavg().map((load) => Math.round(load * 100) / 100);

async function main(): Promise<void> {
  const childDir = argument('run-in', '');
  if (childDir !== '') return runOnce(childDir, Number(argument('threads', '1')));
  const lines = Number(argument('lines', '1000000'));
  const poolThreads = Number(argument('threads', String(Math.max(2, availableParallelism()))));
  const dir = await mkdtemp(join(argument('dir', tmpdir()), 'reconcile-bench-'));
  const loadAverageStart = roundedLoad();
  try {
    const { setupMs } = await setup(dir, lines);
    const runs = [1, poolThreads].map((threads) => {
      const child = spawnSync(
        process.execPath,
        [fileURLToPath(import.meta.url), '--run-in', dir, '--threads', String(threads)],
        { encoding: 'utf8', maxBuffer: 1 << 20 },
      );
      if (child.status !== 0) throw new Error(`run with ${threads} threads: ${child.stderr}`);
      return JSON.parse(child.stdout) as unknown;
    });
    const commit = (() => {
      try {
        return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
      } catch {
        return null;
      }
    })();
    const environment = {
      node: process.version,
      cpus: availableParallelism(),
      loadAverageStart,
      loadAverageEnd: roundedLoad(),
      commit,
    };
    process.stdout.write(
      `${JSON.stringify({ scenario: 'reconcile', lines, setupMs, environment, runs }, null, 2)}\n`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
