// Goal: a `replicated` ledger whose process is SIGKILLed under load loses nothing it acknowledged:
// a new empty dir restored from the streams, and the killed dir itself, hold every acknowledged
// transfer with the same balances and verify() ok; method: a child process
// (fixtures/replicated-load.mjs) on a real 3-node nats-server cluster, killed after a while.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '@shardledger/ledger-core/testing';
import { Ledger } from '../src/index.js';
import { startNatsCluster, type NatsCluster } from './nats-cluster.js';

const fixture = fileURLToPath(new URL('./fixtures/replicated-load.mjs', import.meta.url));
const killAfterReadyMs = 1_000;
const childTimeoutMs = 30_000;
/** The killed child's lease lapses after this; every open after it waits that long. */
const leaseTtlMs = 2_000;

let cluster: NatsCluster;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  cluster = await startNatsCluster();
});

afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
  await cluster.stop();
});

async function newDir(): Promise<string> {
  const { dir, cleanup } = await tempDir('replication-crash');
  cleanups.push(cleanup);
  return dir;
}

/** Runs the child until it is SIGKILLed `killAfterReadyMs` after "ready"; its acknowledged ids. */
function runKilledChild(dir: string, name: string): Promise<{ acks: string[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [fixture, dir, name, cluster.servers.join(','), String(leaseTtlMs)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    const watchdog = setTimeout(() => child.kill('SIGKILL'), childTimeoutMs);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const wasReady = stdout.startsWith('ready\n');
      stdout += chunk;
      if (!wasReady && stdout.startsWith('ready\n'))
        setTimeout(() => child.kill('SIGKILL'), killAfterReadyMs);
    });
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(watchdog);
      // Only complete lines count: the last one may have been torn by the kill.
      const lines = stdout.split('\n').slice(0, -1);
      const acks = lines.filter((line) => line.startsWith('ack ')).map((line) => line.slice(4));
      resolve({ acks, stderr });
    });
  });
}

function open(dir: string, name: string): Promise<Ledger> {
  return Ledger.open({ dir, replication: { servers: [...cluster.servers], name, leaseTtlMs } });
}

async function state(ledger: Ledger, acks: readonly string[]) {
  const accounts = await ledger.lookupAccounts(
    Array.from({ length: 8 }, (_, index) => `acct-${index}`),
  );
  const missing = (await ledger.lookupTransfers(acks)).filter((found) => found === undefined);
  const verified = await ledger.verify();
  return {
    balances: accounts.map((account) => account?.balance),
    missing: missing.length,
    ok: verified.ok,
  };
}

describe('replicated durability under SIGKILL', () => {
  it('restores every acknowledged transfer into a new dir, and the killed dir agrees', async () => {
    const name = 'crash';
    const killedDir = await newDir();
    const { acks, stderr } = await runKilledChild(killedDir, name);
    expect(stderr).toBe('');
    expect(acks.length).toBeGreaterThan(50);

    // The killed dir first: what it committed but never had acknowledged is published on open.
    const reopened = await open(killedDir, name);
    const killed = await state(reopened, acks);
    await reopened.close();
    expect(killed.missing).toBe(0);
    expect(killed.ok).toBe(true);

    const started = performance.now();
    const restored = await open(await newDir(), name);
    const restoreMs = performance.now() - started;
    const info = await restored.info();
    const events = info.shardInfo.reduce((sum, shard) => sum + shard.lastSequence, 0);
    const fresh = await state(restored, acks);
    await restored.close();
    expect(fresh).toEqual(killed);
    expect(fresh.balances.reduce((sum, balance) => (sum ?? 0n) + (balance ?? 0n), 0n)).toBe(0n);
    console.log(
      `restored ${events} events into a new dir in ${restoreMs.toFixed(0)} ms ` +
        `(${Math.round(events / (restoreMs / 1000))} events/s, open included)`,
    );
  });
});
