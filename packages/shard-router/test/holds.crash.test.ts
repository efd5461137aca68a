// Goal: SIGKILL while callers hold, post (in part) and void amounts between accounts of different
// shards leaves every hold whole: on both of its sides or on neither, in the state its last
// acknowledged call left it (or a later one), with exactly the amounts posted. Method: a child
// process (fixtures/holds-load.mjs) killed at seeded random moments, checked by reopening here.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Ledger } from '../src/index.js';
import { seededRandom, tempDir } from '@shardledger/ledger-core/testing';
import { ledgerTotals } from './ledger-fixtures.js';

const fixture = fileURLToPath(new URL('./fixtures/holds-load.mjs', import.meta.url));
const seed = Number(process.env['CRASH_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const rounds = Number(process.env['HOLD_CRASH_ROUNDS'] ?? 8);
const childTimeoutMs = 30_000;

type Line = readonly string[];

function runChild(
  dir: string,
  round: number,
  killAfterReadyMs: number,
): Promise<{ tries: Line[]; acks: Line[]; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture, dir, String(round), String(seed)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let ready = false;
    const watchdog = setTimeout(() => child.kill('SIGKILL'), childTimeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (!ready && stdout.startsWith('ready\n')) {
        ready = true;
        setTimeout(() => child.kill('SIGKILL'), killAfterReadyMs);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(watchdog);
      const lines = stdout.split('\n').slice(0, -1);
      const parse = (prefix: string): Line[] =>
        lines
          .filter((line) => line.startsWith(prefix))
          .map((line) => JSON.parse(line.slice(prefix.length)) as Line);
      resolve({ tries: parse('try '), acks: parse('ack '), signal, stderr });
    });
  });
}

describe('cross-shard holds under SIGKILL', () => {
  it(`stay whole and exact across ${rounds} kills at random moments`, async () => {
    console.log(`holds.crash.test.ts seed=${seed} (replay with CRASH_SEED=${seed})`);
    const random = seededRandom(seed);
    const { dir, cleanup } = await tempDir('holds-crash');
    /** Every hold any child tried: id -> [debit, credit, amount]. */
    const tried = new Map<string, readonly [string, string, bigint]>();
    /** What the children were told. */
    const acked = new Map<string, string>();
    const posts = new Map<string, bigint>();
    const voids = new Set<string>();
    /** Holds whose post or void was at least sent: only those may have left 'pending'. */
    const resolutionTried = new Set<string>();
    let crossShardOk = 0;
    try {
      for (let round = 0; round < rounds; round += 1) {
        const run = await runChild(dir, round, 150 + Math.floor(random() * 500));
        expect(run.stderr).toBe('');
        expect(run.signal).toBe('SIGKILL');
        for (const line of run.tries) {
          if (line[0] === 'hold')
            tried.set(line[1] as string, [
              line[2] as string,
              line[3] as string,
              BigInt(line[4] as string),
            ]);
          else resolutionTried.add(line[2] as string);
        }
        for (const ack of run.acks) {
          if (ack[0] === 'hold') acked.set(ack[1] as string, ack[2] as string);
          if (ack[0] === 'post' && ack[3] === 'ok')
            posts.set(ack[2] as string, BigInt(ack[4] as string));
          if (ack[0] === 'void' && ack[3] === 'ok') voids.add(ack[2] as string);
        }

        const ledger = await Ledger.open({ dir, shards: 4, durability: 'strict' });
        try {
          const report = await ledger.verify();
          expect(report.violations).toEqual([]);
          const ids = [...tried.keys()];
          const records = await ledger.lookupTransfers(ids);
          let pendingTotal = 0n;
          let postedTotal = 0n;
          ids.forEach((id, index) => {
            const record = records[index];
            const [debit, credit, amount] = tried.get(id) as readonly [string, string, bigint];
            const status = acked.get(id);
            if (status !== undefined && status !== 'ok')
              expect(record, `refused ${id} is absent`).toBeUndefined();
            if (status === 'ok') {
              expect(record, `acknowledged hold ${id}`).toMatchObject({
                debitAccountId: debit,
                creditAccountId: credit,
                amount,
                pending: true,
              });
              if (record?.crossShard === true) crossShardOk += 1;
              if (!resolutionTried.has(id))
                expect(record?.state, `hold ${id}, never posted nor voided, is still pending`).toBe(
                  'pending',
                );
            }
            if (posts.has(id))
              expect(record, `acknowledged post of ${id}`).toMatchObject({
                state: 'posted',
                postedAmount: posts.get(id),
              });
            if (voids.has(id)) expect(record?.state, `acknowledged void of ${id}`).toBe('voided');
            if (record === undefined) return;
            expect(['pending', 'posted', 'voided']).toContain(record.state);
            if (record.state === 'pending') pendingTotal += amount;
            if (record.state === 'posted') postedTotal += record.postedAmount ?? -1n;
          });
          // Exactly the open holds are pending, and exactly the posted amounts moved, on both sides.
          const totals = await ledgerTotals(ledger);
          expect([totals.debitsPending, totals.creditsPending]).toEqual([
            pendingTotal,
            pendingTotal,
          ]);
          expect([totals.debitsPosted, totals.creditsPosted]).toEqual([postedTotal, postedTotal]);
          expect(totals.reservationsOpen).toBe(0);
        } finally {
          await ledger.close();
        }
      }
      expect(acked.size).toBeGreaterThan(rounds);
      expect(crossShardOk).toBeGreaterThan(0);
      expect(posts.size + voids.size).toBeGreaterThan(0);
    } finally {
      await cleanup();
    }
  }, 300_000);
});
