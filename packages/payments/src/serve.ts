// Starts the payments service on an embedded ledger: the ledger, the store next to it, the
// HTTP API, the PSP retry queue, the webhook dispatcher and the expiry sweep. Recovery runs
// before the port opens: every payment mid-transition is brought into agreement with the ledger.
import { join } from 'node:path';
import { Ledger } from '@shardledger/shard-router';
import { createApp } from './http/app.js';
import { forgetUnfinishedKeys } from './http/idempotency.js';
import { JobRunner } from './job-queue.js';
import { PaymentService, isRetryable } from './payment-service.js';
import { Payouts } from './payouts.js';
import { HttpPsp } from './psp/http-psp.js';
import { closeStore, openStore, type Db } from './store.js';
import { Endpoints, WebhookDispatcher } from './webhooks-out.js';
import { isPaymentError } from './errors.js';
import { isRetryableLedgerError } from './ledger-binding.js';

export interface ServeOptions {
  /** The ledger's data dir; the payments store is `payments.sqlite` inside it. */
  readonly dir: string;
  readonly host?: string;
  readonly port: number;
  readonly shards?: number;
  /** The ledger's durability (default 'strict': every answer waits for the ledger's fsync). */
  readonly durability?: 'strict' | 'relaxed';
  /** The simulated PSP (or any PSP speaking its API): base URL and webhook secret. */
  readonly psp: {
    readonly connector: string;
    readonly baseUrl: string;
    readonly webhookSecret: string;
    readonly timeoutMs?: number;
  };
  readonly feeBps?: number;
  readonly expiresInMs?: number;
  readonly holdGraceMs?: number;
  /** How often the retry queue, the dispatcher and the expiry sweep look for work. */
  readonly pollIntervalMs?: number;
}

export interface RunningServer {
  readonly url: string;
  readonly ledger: Ledger;
  /** Stops taking requests, lets those in flight finish, stops the loops, closes everything. */
  close(): Promise<void>;
}

/** The PSP retry queue: a `drive` job moves a payment on, a `payout` job re-sends a payout. */
function jobRunner(options: { db: Db; service: PaymentService; payouts: Payouts }): JobRunner {
  const { db, service, payouts } = options;
  return new JobRunner({
    db,
    handler: async (job) => {
      if (job.kind === 'drive') await service.drive(job.subject);
      else {
        const [id, destination] = job.subject.split('|') as [string, string];
        await payouts.send(id, destination);
      }
    },
    classify: (error) =>
      isRetryable(error) || isRetryableLedgerError(error) || !isPaymentError(error)
        ? 'retry'
        : 'terminal',
  });
}

export async function startPaymentsServer(options: ServeOptions): Promise<RunningServer> {
  const ledger = await Ledger.open({
    dir: options.dir,
    ...(options.shards === undefined ? {} : { shards: options.shards }),
    ...(options.durability === undefined ? {} : { durability: options.durability }),
  });
  const db = openStore(join(options.dir, 'payments.sqlite'));
  const psp = new HttpPsp({
    connector: options.psp.connector,
    baseUrl: options.psp.baseUrl,
    webhookSecret: options.psp.webhookSecret,
    timeoutMs: options.psp.timeoutMs ?? 2_000,
  });
  const feeBps = options.feeBps ?? 200;
  const service = new PaymentService({
    ledger,
    db,
    adapters: new Map([[psp.connector, psp]]),
    feeBps,
    holdGraceMs: options.holdGraceMs ?? 60_000,
  });
  const payouts = new Payouts({ service, feeBps });
  const endpoints = new Endpoints(db);
  forgetUnfinishedKeys(db);
  await service.recover(Date.now());
  const jobs = jobRunner({ db, service, payouts });
  const dispatcher = new WebhookDispatcher(db);
  const pollIntervalMs = options.pollIntervalMs ?? 100;
  jobs.start(pollIntervalMs);
  dispatcher.start(pollIntervalMs);
  const sweep = setInterval(
    () => void service.expireDue(Date.now()).catch(() => undefined),
    pollIntervalMs,
  );
  sweep.unref();
  const app = createApp({
    service,
    payouts,
    endpoints,
    isRetryable,
    defaults: { connector: psp.connector, expiresInMs: options.expiresInMs ?? 15 * 60_000 },
    version: '0.1.0',
  });
  let closing: Promise<void> | undefined;
  // While draining, each answer closes its connection: a client's idle keep-alive connection
  // would otherwise hold the server open until its keep-alive timeout.
  app.addHook('onSend', async (_request, reply) => {
    if (closing !== undefined) void reply.header('connection', 'close');
  });
  const url = await app.listen({ host: options.host ?? '127.0.0.1', port: options.port });
  return {
    url,
    ledger,
    close: () =>
      (closing ??= (async () => {
        await app.close();
        clearInterval(sweep);
        await jobs.stop();
        await dispatcher.stop();
        await ledger.close();
        closeStore(db);
      })()),
  };
}
