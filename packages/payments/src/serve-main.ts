#!/usr/bin/env node
// Runs the payments service as a process (the tests start it this way; `shardledger serve`
// does the same from the CLI). Configuration comes from the environment:
//   SHARDLEDGER_DIR, SHARDLEDGER_SHARDS (when creating the dir), PAYMENTS_PORT, PSP_URL, PSP_WEBHOOK_SECRET, PSP_TIMEOUT_MS,
//   PAYMENTS_POLL_MS, PAYMENTS_HOLD_GRACE_MS.
// It prints {"url": ...} once listening; SIGTERM or SIGINT drains requests in flight and exits.
import { startPaymentsServer } from './serve.js';

const env = process.env;
const number = (value: string | undefined, fallback: number) =>
  value === undefined ? fallback : Number.parseInt(value, 10);
const server = await startPaymentsServer({
  dir: env['SHARDLEDGER_DIR'] ?? './shardledger-data',
  ...(env['SHARDLEDGER_SHARDS'] === undefined
    ? {}
    : { shards: number(env['SHARDLEDGER_SHARDS'], 1) }),
  port: number(env['PAYMENTS_PORT'], 3000),
  psp: {
    connector: 'simpsp',
    baseUrl: env['PSP_URL'] ?? 'http://127.0.0.1:4100',
    webhookSecret: env['PSP_WEBHOOK_SECRET'] ?? 'dev-secret',
    timeoutMs: number(env['PSP_TIMEOUT_MS'], 2_000),
  },
  pollIntervalMs: number(env['PAYMENTS_POLL_MS'], 100),
  holdGraceMs: number(env['PAYMENTS_HOLD_GRACE_MS'], 60_000),
});
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
const stop = () => void server.close();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
