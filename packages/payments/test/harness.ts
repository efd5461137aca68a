// Starts the simulated PSP and the payments server as real child processes on loopback, and
// speaks to them over HTTP, as a client and as the PSP's operator would.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { SimRule } from '../src/index.js';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
export const webhookSecret = 'test-webhook-secret';

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `shardledger-payments-${prefix}-`));
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

async function firstLine(child: ChildProcess, what: string): Promise<Record<string, unknown>> {
  const lines = createInterface({ input: child.stdout! });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${stderr}`)), 20_000);
    child.once('exit', (code) => reject(new Error(`${what} exited ${code}: ${stderr}`)));
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line) as Record<string, unknown>);
    });
  });
}

export interface Process {
  readonly url: string;
  readonly child: ChildProcess;
  /** Sends a signal and waits for the process to end. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Every child a test started and that has not ended yet. */
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Kills (SIGKILL) every child still running and waits for each to end. Test files call it in
 * `afterEach`, so a test that fails half-way, or times out, leaves no process behind for the
 * tests after it (the 'exit' hook above only runs when the whole test process ends). */
export async function killChildren(): Promise<void> {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
  children.clear();
}

/** Whether a process id still names a running process. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function processOf(url: string, child: ChildProcess): Process {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return {
    url,
    child,
    stop: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      }),
  };
}

export async function startPsp(options: { webhookUrl: string; dir: string }): Promise<Process> {
  const child = spawn(
    process.execPath,
    [
      join(dist, 'psp/sim-main.js'),
      ...['--port', '0', '--seed', '42', '--webhook-url', options.webhookUrl],
      ...['--webhook-secret', webhookSecret, '--settlement-dir', options.dir],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const { port } = await firstLine(child, 'the simulated PSP');
  return processOf(`http://127.0.0.1:${String(port)}`, child);
}

export async function startServer(options: {
  dir: string;
  port: number;
  pspUrl: string;
  pspTimeoutMs?: number;
  shards?: number;
}): Promise<Process> {
  const child = spawn(process.execPath, [join(dist, 'serve-main.js')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      SHARDLEDGER_DIR: options.dir,
      PAYMENTS_PORT: String(options.port),
      PSP_URL: options.pspUrl,
      PSP_WEBHOOK_SECRET: webhookSecret,
      PSP_TIMEOUT_MS: String(options.pspTimeoutMs ?? 400),
      PAYMENTS_POLL_MS: '50',
      PAYMENTS_HOLD_GRACE_MS: '2000',
      ...(options.shards === undefined ? {} : { SHARDLEDGER_SHARDS: String(options.shards) }),
    },
  });
  const { url } = await firstLine(child, 'the payments server');
  return processOf(String(url), child);
}

export interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Headers;
}

export async function call(
  url: string,
  options: { method?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const hasBody = options.body !== undefined || options.raw !== undefined;
  const response = await fetch(url, {
    method: options.method ?? (hasBody ? 'POST' : 'GET'),
    headers: { ...(hasBody ? { 'content-type': 'application/json' } : {}), ...options.headers },
    ...(hasBody ? { body: options.raw ?? JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>,
    headers: response.headers,
  };
}

export async function setRules(pspUrl: string, rules: readonly SimRule[]): Promise<void> {
  const reply = await call(`${pspUrl}/_sim/rules`, {
    body: { rules },
    headers: { 'idempotency-key': 'x' },
  });
  if (reply.status !== 200) throw new Error(`rules refused: ${JSON.stringify(reply.body)}`);
}

/** How many times the PSP performed each operation, by `operation:reference`. */
export async function pspCounts(pspUrl: string): Promise<Record<string, number>> {
  return (await call(`${pspUrl}/_sim/counts`)).body as Record<string, number>;
}

/** Polls until `check` holds (or throws after `timeoutMs`). */
export async function eventually<T>(
  read: () => Promise<T>,
  check: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last value ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function checkout(id: string, orders: readonly [string, string, string][], extra = {}) {
  return {
    checkout_id: id,
    payment_orders: orders.map(([orderId, seller, amount]) => ({
      payment_order_id: orderId,
      seller_account: seller,
      amount,
      currency: 'USD',
    })),
    ...extra,
  };
}
