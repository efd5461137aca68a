// `shardledger bench reconcile`: runs the reconciliation package's own bench (a settlement file of
// N lines reconciled against a ledger holding those transfers, on one thread and on a pool) in a
// child process, which prints its figures as JSON. Only the scenario's name and counts are read
// here; the bench itself lives with the code it measures.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseCount } from '../context.js';
import { usageError } from '../errors.js';

export const reconcileScenario = 'reconcile';

export const reconcileHelp = `
  reconcile     a settlement file of --lines lines (default 1,000,000) reconciled against a
                ledger holding those transfers, on one thread and on a pool of --threads`;

export interface ReconcileBenchOptions {
  readonly lines?: string;
  readonly threads?: string;
  readonly json?: string | boolean;
}

export async function runReconcileBench(options: ReconcileBenchOptions): Promise<void> {
  if (typeof options.json === 'string')
    throw usageError('reconcile prints its JSON on stdout: use --json without a file, or >');
  const entry = fileURLToPath(import.meta.resolve('@shardledger/reconciliation/bench'));
  const args = [entry];
  if (options.lines !== undefined)
    args.push('--lines', String(parseCount(options.lines, '--lines')));
  if (options.threads !== undefined)
    args.push('--threads', String(parseCount(options.threads, '--threads', { min: 2 })));
  const child = spawn(process.execPath, args, { stdio: 'inherit' });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (exitCode) => resolve(exitCode));
  });
  if (code !== 0) process.exitCode = code ?? 1;
}
