// `shardledger serve`: the payments HTTP API (@shardledger/payments) on the embedded ledger of
// the data dir, talking to a PSP that speaks the simulated PSP's API. SIGTERM or Ctrl-C stops
// taking requests, lets those in flight finish, and closes the ledger. The payments package (and
// its HTTP server, Fastify) is an optional peer of the CLI, loaded only by this command, so an
// install that only keeps a ledger does not carry a web server.

import type { Command } from 'commander';
import { examples, parseCount, print, requireLedgerDir, withDirOption } from '../context.js';
import { usageError } from '../errors.js';

interface ServeOptions {
  readonly dir: string;
  readonly host: string;
  readonly port: string;
  readonly pspUrl: string;
  readonly pspSecret: string;
  readonly pspTimeoutMs: string;
  readonly feeBps: string;
}

export function registerServe(program: Command): void {
  const command = program
    .command('serve')
    .description('serve the payments HTTP API (pay-in, pay-out, wallets, webhooks) on this ledger');
  withDirOption(command);
  command
    .option('--host <host>', 'the address to listen on', '127.0.0.1')
    .option('--port <port>', 'the port to listen on', '3000')
    .option('--psp-url <url>', "the PSP's base URL", 'http://127.0.0.1:4100')
    .option('--psp-secret <secret>', "the PSP's webhook signing secret", 'dev-secret')
    .option('--psp-timeout-ms <ms>', 'how long a PSP call may take before it is retried', '2000')
    .option('--fee-bps <bps>', "the platform's fee on each payment order, in basis points", '200');
  command.addHelpText(
    'after',
    examples([
      'shardledger serve --port 3000 --psp-url http://127.0.0.1:4100 --psp-secret s3cret',
      'SHARDLEDGER_DIR=/var/lib/shardledger shardledger serve --host 0.0.0.0',
    ]),
  );
  command.action(async (options: ServeOptions) => {
    await requireLedgerDir(options.dir);
    const { startPaymentsServer } = await loadPayments();
    const server = await startPaymentsServer({
      dir: options.dir,
      host: options.host,
      port: parseCount(options.port, '--port', { min: 0 }),
      psp: {
        connector: 'simpsp',
        baseUrl: options.pspUrl,
        webhookSecret: options.pspSecret,
        timeoutMs: parseCount(options.pspTimeoutMs, '--psp-timeout-ms'),
      },
      feeBps: parseCount(options.feeBps, '--fee-bps', { min: 0 }),
    });
    print(`serving payments at ${server.url} (SIGTERM or Ctrl-C to stop)`);
    await new Promise<void>((resolve) => {
      const stop = () => void server.close().then(resolve);
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
  });
}

async function loadPayments(): Promise<typeof import('@shardledger/payments')> {
  try {
    return await import('@shardledger/payments');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw usageError(
      'serve needs the payments package',
      'npm install @shardledger/payments (the same version as the CLI)',
    );
  }
}
