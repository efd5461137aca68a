// Goal: SIGKILL under concurrent load loses no acknowledged transfer, applies none twice and leaves no saga open; method: a child process (fixtures/crash-ledger.mjs) killed at seeded random moments and at saga failpoints, checked by reopening the Ledger here after each kill.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, it, type ExpectStatic } from 'vitest';
import { Ledger } from '../src/index.js';
import { seededRandom, tempDir } from '@shardledger/ledger-core/testing';
import { ledgerTotals } from './ledger-fixtures.js';

const fixture = fileURLToPath(new URL('./fixtures/crash-ledger.mjs', import.meta.url));
/** Printed, and replayable with CRASH_SEED=<seed>. */
const seed = Number(process.env['CRASH_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const randomKillRounds = Number(process.env['CRASH_ROUNDS'] ?? 20);
const killDelayMinMs = 100;
const killDelayMaxMs = 600;
/** A child that never reaches "ready", or outlives its failpoint, has hung. */
const childTimeoutMs = 30_000;

type Ack = readonly [
  id: string,
  status: string,
  debitAccountId: string,
  creditAccountId: string,
  amount: string,
];
interface ChildRun {
  readonly acks: Ack[];
  readonly ready: boolean;
  readonly signal: NodeJS.Signals | null;
  readonly code: number | null;
  readonly stderr: string;
}

/** Runs the child once. `killAfterReadyMs` SIGKILLs it that long after "ready"; without it the
 * child is expected to kill itself (an armed kill-process failpoint). */
function runChild(options: {
  dir: string;
  round: number;
  killAfterReadyMs?: number;
  failpoints?: string;
}): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env['SHARDLEDGER_FAILPOINTS'];
    if (options.failpoints !== undefined) env['SHARDLEDGER_FAILPOINTS'] = options.failpoints;
    const child = spawn(
      process.execPath,
      [fixture, options.dir, String(options.round), String(seed)],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    let ready = false;
    const watchdog = setTimeout(() => child.kill('SIGKILL'), childTimeoutMs);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      if (!ready && stdout.startsWith('ready\n')) {
        ready = true;
        if (options.killAfterReadyMs !== undefined)
          setTimeout(() => child.kill('SIGKILL'), options.killAfterReadyMs);
      }
    });
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(watchdog);
      // Only complete lines count: the last one may have been torn by the kill.
      const lines = stdout.split('\n').slice(0, -1);
      const acks = lines
        .filter((line) => line.startsWith('ack '))
        .map((line) => JSON.parse(line.slice(4)) as Ack);
      resolve({ acks, ready, signal, code, stderr });
    });
  });
}

/** How many times each transfer id was applied, from the events appended after `after[shard]`:
 * a same-shard transfer is one TransferCreated, a cross-shard one the commit of its debit leg. */
async function applicationsSince(ledger: Ledger, after: number[]): Promise<Map<string, number>> {
  const applied = new Map<string, number>();
  const count = (id: string): void => {
    applied.set(id, (applied.get(id) ?? 0) + 1);
  };
  for (let shard = 0; shard < ledger.shards; shard++) {
    for (let sequence = after[shard] ?? 0; ;) {
      const page = await ledger.readEvents(shard, sequence, 5_000);
      if (page.length === 0) break;
      for (const { event } of page) {
        if (event.type === 'TransferCreated') count(event.transfer.id);
        if (event.type === 'ReservationCommitted') {
          for (const leg of event.legs) if (leg.side === 'debit') count(leg.transfer.id);
        }
      }
      sequence = (page[page.length - 1] as { sequence: number }).sequence;
    }
  }
  return applied;
}

/** Opens the ledger here (finishing interrupted sagas) and checks everything the child was told. */
async function checkAfterCrash(
  expect: ExpectStatic,
  options: { dir: string; acks: readonly Ack[]; after: number[] },
): Promise<{ okCount: number; refusedCount: number }> {
  const { dir, acks, after } = options;
  const ledger = await Ledger.open({ dir, shards: 4, durability: 'strict' });
  try {
    const report = await ledger.verify();
    expect(report.violations).toEqual([]);
    expect(report.ok).toBe(true);
    const totals = await ledgerTotals(ledger);
    expect(totals.reservationsOpen).toBe(0);
    expect(totals.debitsPending).toBe(0n);
    expect(totals.creditsPending).toBe(0n);
    expect(totals.debitsPosted).toBe(totals.creditsPosted);

    const ids = acks.map(([id]) => id);
    expect(new Set(ids).size).toBe(ids.length);
    const records: Awaited<ReturnType<Ledger['lookupTransfers']>> = [];
    for (let start = 0; start < ids.length; start += 4_000)
      records.push(...(await ledger.lookupTransfers(ids.slice(start, start + 4_000))));
    const applied = await applicationsSince(ledger, after);
    let okCount = 0;
    let refusedCount = 0;
    acks.forEach(([id, status, debitAccountId, creditAccountId, amount], index) => {
      const record = records[index];
      if (status === 'ok') {
        okCount++;
        expect(record, `acknowledged ${id} is present`).toMatchObject({
          id,
          debitAccountId,
          creditAccountId,
          amount: BigInt(amount),
          currency: 'USD',
          state: 'posted',
        });
        expect(applied.get(id), `acknowledged ${id} applied once`).toBe(1);
      } else {
        refusedCount++;
        expect(['insufficient_funds'], `status of ${id}`).toContain(status);
        expect(record, `refused ${id} is absent`).toBeUndefined();
        expect(applied.get(id) ?? 0, `refused ${id} never applied`).toBe(0);
      }
    });
    // Unacknowledged transfers (in flight at the kill) may be there or not, but never twice.
    for (const [id, times] of applied) expect(times, `${id} applied at most once`).toBe(1);

    // No limited account went below zero.
    const accounts = await ledger.lookupAccounts(
      Array.from({ length: 16 }, (_, index) => `acct-${index}`),
    );
    for (const account of accounts) {
      expect(account).toBeDefined();
      if (account?.debitsMustNotExceedCredits === true)
        expect(account.balance).toBeGreaterThanOrEqual(0n);
    }
    const info = await ledger.info();
    info.shardInfo.forEach((shard, index) => {
      after[index] = shard.lastSequence;
    });
    return { okCount, refusedCount };
  } finally {
    await ledger.close();
  }
}

/** Kills the child `rounds` times on one data dir, checking after each kill; returns the totals. */
async function killChain(
  expect: ExpectStatic,
  options: {
    dir: string;
    label: string;
    rounds: readonly { round: number; killAfterReadyMs?: number; failpoints?: string }[];
  },
): Promise<{ kills: number; okTotal: number; refusedTotal: number }> {
  const after = [0, 0, 0, 0];
  const totals = { kills: 0, okTotal: 0, refusedTotal: 0 };
  for (const { round, killAfterReadyMs, failpoints } of options.rounds) {
    const what = `${options.label} round ${round}${failpoints === undefined ? ` (kill ${killAfterReadyMs} ms after ready)` : ` (${failpoints})`}`;
    const run = await runChild({
      dir: options.dir,
      round,
      ...(killAfterReadyMs !== undefined ? { killAfterReadyMs } : {}),
      ...(failpoints !== undefined ? { failpoints } : {}),
    });
    if (failpoints === undefined)
      expect(run.ready, `${what} reached ready; stderr: ${run.stderr}`).toBe(true);
    expect(run.signal, `${what} died by SIGKILL (code ${run.code}); stderr: ${run.stderr}`).toBe(
      'SIGKILL',
    );
    totals.kills++;
    const { okCount, refusedCount } = await checkAfterCrash(expect, {
      dir: options.dir,
      acks: run.acks,
      after,
    });
    totals.okTotal += okCount;
    totals.refusedTotal += refusedCount;
  }
  return totals;
}

describe('Ledger killed with SIGKILL under concurrent load', () => {
  const cleanups: (() => Promise<void>)[] = [];
  beforeAll(() => {
    console.log(`ledger.crash.test.ts seed=${seed} (replay with CRASH_SEED=${seed})`);
  });
  afterAll(async () => {
    await Promise.all(cleanups.map((cleanup) => cleanup()));
  });

  // The two tests run side by side, and the random kills on two data dirs side by side: most of
  // a round is process and worker start-up, which overlaps well even on two busy cores.
  it.concurrent(
    `keeps every acknowledged transfer exactly once across ${randomKillRounds} kills at random moments`,
    async ({ expect }) => {
      const random = seededRandom(seed);
      const chains = [0, 1].map((chain) => ({
        label: `chain ${chain}`,
        rounds: Array.from({ length: Math.ceil(randomKillRounds / 2) }, (_, index) => ({
          round: index + 1,
          killAfterReadyMs:
            killDelayMinMs + Math.floor(random() * (killDelayMaxMs - killDelayMinMs)),
        })),
      }));
      const results = await Promise.all(
        chains.map(async (chain) => {
          const temp = await tempDir('ledger-crash');
          cleanups.push(temp.cleanup);
          return killChain(expect, { dir: temp.dir, ...chain });
        }),
      );
      const kills = results.reduce((sum, result) => sum + result.kills, 0);
      const okTotal = results.reduce((sum, result) => sum + result.okTotal, 0);
      const refusedTotal = results.reduce((sum, result) => sum + result.refusedTotal, 0);
      console.log(
        `random kills: ${kills}, acknowledged ok: ${okTotal}, acknowledged refusals: ${refusedTotal}`,
      );
      expect(kills).toBeGreaterThanOrEqual(randomKillRounds);
      expect(okTotal).toBeGreaterThan(kills);
      expect(refusedTotal).toBeGreaterThan(0);
    },
    240_000,
  );

  it.concurrent(
    'keeps every acknowledged transfer exactly once when the process kills itself at a saga step',
    async ({ expect }) => {
      const temp = await tempDir('ledger-crash-failpoints');
      cleanups.push(temp.cleanup);
      const failpoints = [
        'saga.commit.before=kill-process@5',
        'saga.reserve.after=kill-process@3',
        'saga.commit.after=kill-process@9',
        // Armed in every shard worker: the first worker to reach its 12th reply kills the process.
        'shard.submit.after-commit-before-reply=kill-process@12',
      ];
      const { kills, okTotal } = await killChain(expect, {
        dir: temp.dir,
        label: 'failpoints',
        rounds: failpoints.map((spec, index) => ({ round: index + 1, failpoints: spec })),
      });
      console.log(`failpoint kills: ${kills}, acknowledged ok: ${okTotal}`);
      expect(kills).toBe(failpoints.length);
    },
    240_000,
  );
});
