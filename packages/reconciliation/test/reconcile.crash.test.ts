// Goal: a run killed with SIGKILL at any phase resumes to the same report as a run never
// interrupted; method: a child process (fixtures/reconcile-killed.mjs) kills itself after a phase
// or a number of matched buckets, then this process resumes the run in the same work dir.
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger } from '@shardledger/shard-router';
import { tempDir } from '@shardledger/ledger-core/testing';
import { reconcile, type Report } from '../src/index.js';
import { seedScenario, type Scenario } from './settlement-fixtures.js';

const fixture = fileURLToPath(new URL('./fixtures/reconcile-killed.mjs', import.meta.url));
const childTimeoutMs = 30_000;

let dir: string;
let cleanup: () => Promise<void>;
let scenario: Scenario;
let clean: Report;

function runChild(workDir: string, killAfter: string): Promise<NodeJS.Signals | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [fixture, join(dir, 'ledger'), scenario.file, workDir, killAfter],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const watchdog = setTimeout(() => child.kill('SIGKILL'), childTimeoutMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(watchdog);
      if (signal === null && code !== 0) reject(new Error(`child exited ${code}: ${stderr}`));
      else resolve(signal);
    });
  });
}

async function withLedger<T>(body: (ledger: Ledger) => Promise<T>): Promise<T> {
  const ledger = await Ledger.open({ dir: join(dir, 'ledger') });
  try {
    return await body(ledger);
  } finally {
    await ledger.close();
  }
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('recon-crash'));
  await withLedger(async (ledger) => {
    scenario = await seedScenario(ledger, dir, { cleanCount: 200, seed: 11 });
    ({ report: clean } = await reconcile({
      ledger,
      file: scenario.file,
      profile: 'simulated',
      workDir: join(dir, 'clean'),
      bucketCount: 32,
    }));
  });
});

afterAll(() => cleanup());

describe('a reconciliation run killed with SIGKILL', () => {
  for (const killAfter of ['settlement', '9']) {
    it(`resumes to the same report after a kill after ${killAfter === 'settlement' || killAfter === 'ledger' ? `the ${killAfter} phase` : `${killAfter} bucket(s)`}`, async () => {
      const workDir = join(dir, `killed-${killAfter}`);
      expect(await runChild(workDir, killAfter)).toBe('SIGKILL');
      const runs = await readdir(workDir);
      expect(runs).toEqual([clean.runId]);
      expect(await readdir(join(workDir, clean.runId))).not.toContain('report.json');
      const resumed = await withLedger((ledger) =>
        reconcile({ ledger, file: scenario.file, profile: 'simulated', workDir, bucketCount: 32 }),
      );
      expect(resumed.resumed).toBe(true);
      expect(resumed.report).toEqual(clean);
    });
  }
});
