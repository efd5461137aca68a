// Goal: the PostgreSQL peer runs against a throw-away server and conserves money, or says why it
// is skipped. Method: a short real run (a server is started and stopped), and a missing bin dir.
import { existsSync } from 'node:fs';
import { tempDir } from '@shardledger/ledger-core/testing';
import { describe, expect, it } from 'vitest';
import { createPostgresPeer, createProgress, generateWorkload, isSkipped } from '../src/index.js';

const workload = generateWorkload({
  seed: 4,
  accountCount: 20,
  transferCount: 300,
  batchSize: 100,
});
const progress = createProgress({ enabled: false });

describe('postgres peer', () => {
  it('is skipped with a clear message when PostgreSQL is not installed', async () => {
    const { dir, cleanup } = await tempDir('bench-pg');
    const run = await createPostgresPeer({ binDir: '/nonexistent/bin' }).run({
      workload,
      durability: 'strict',
      warmupMs: 0,
      durationMs: 1000,
      dir,
      progress,
    });
    await cleanup();
    expect(isSkipped(run) && run.skipped).toMatch(/PostgreSQL unavailable: no initdb/);
  });

  // Never skipped: where the installed binaries exist (they do on our machines) the run must
  // succeed; where they don't, the default peer must say so instead of failing.
  it.each(['batched', 'per-transfer'] as const)(
    'applies every transfer (%s) and conserves money (or reports PostgreSQL missing)',
    async (form) => {
      const { dir, cleanup } = await tempDir('bench-pg');
      try {
        const run = await createPostgresPeer({ connections: 4 }, form).run({
          workload,
          durability: 'relaxed',
          warmupMs: 0,
          durationMs: 10_000,
          dir,
          progress,
        });
        if (!existsSync('/usr/lib/postgresql/15/bin/initdb')) {
          expect(isSkipped(run) && run.skipped).toMatch(/PostgreSQL unavailable/);
          return;
        }
        if (isSkipped(run)) throw new Error(run.skipped);
        expect(run.name).toBe(form === 'batched' ? 'postgres' : 'postgres-per-transfer');
        expect(run.method).toContain(
          form === 'batched'
            ? 'one call of a PL/pgSQL function per batch of 100'
            : 'one transaction per transfer',
        );
        expect(run.transfers).toBe(300);
        expect(run.checks?.appliedCount).toBe(300);
        expect(run.checks?.debitsTotal).toBe(run.checks?.creditsTotal);
      } finally {
        await cleanup();
      }
    },
    20_000,
  );
});
