// Long commands report progress on stderr, project's timeout says what to do next, and statement
// fails as balance does. Method: the real binary (dist/main.js) in child processes, on a data dir
// the test fills through the library with enough transfers that projecting them takes a while
// (one full batch, cross-shard: about 33,000 events).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger, limits, type TransferInput } from '@shardledger/shard-router';
import { cli, tempDir } from './cli-helpers.js';

const transferCount = limits.batchSizeMax;

describe('shardledger progress, project timeouts and statement errors', () => {
  let cwd = '';
  let cleanup = async (): Promise<void> => undefined;
  const lines = { SHARDLEDGER_PROGRESS: 'lines' };
  const run = (args: string[], env: Record<string, string> = {}) => cli(cwd, args, env);

  beforeAll(async () => {
    ({ dir: cwd, cleanup } = await tempDir());
    await mkdir(join(cwd, 'shardledger-data'));
    const ledger = await Ledger.open({ dir: join(cwd, 'shardledger-data'), shards: 2 });
    try {
      await ledger.createAccounts([
        { id: 'bank', currency: 'USD' },
        { id: 'alice', currency: 'USD' },
      ]);
      for (let start = 0; start < transferCount; start += limits.batchSizeMax) {
        const batch: TransferInput[] = Array.from({ length: limits.batchSizeMax }, (_, index) => ({
          id: `t-${start + index}`,
          debitAccountId: 'bank',
          creditAccountId: 'alice',
          amount: 1n,
          currency: 'USD',
        }));
        const results = await ledger.createTransfers(batch);
        expect(results.filter((result) => result.status !== 'ok')).toEqual([]);
      }
    } finally {
      await ledger.close();
    }
  }, 120_000);

  afterAll(() => cleanup());

  it('project stops at its timeout with how far it got and that running it again goes on', async () => {
    const stopped = await run(['project', '--timeout-ms', '1'], lines);
    expect(stopped.code).toBe(8);
    expect(stopped.stderr).toMatch(/TIMEOUT: projecting into the read model took longer than/);
    expect(stopped.stderr).toMatch(/of [0-9,]+ events projected/);
    expect(stopped.stderr).toContain("run 'shardledger project' again to go on");
    expect(stopped.stderr).not.toContain('same ids');
  });

  it('project shows its progress on stderr, and verify and export theirs', async () => {
    const projected = await run(['project'], lines);
    expect(projected.code, projected.stderr).toBe(0);
    expect(projected.stderr).toMatch(/^shardledger: projecting into the read model: [0-9,]+ of /m);
    const verified = await run(['verify'], lines);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stderr).toMatch(/^shardledger: verifying 2 shards\.\.\. /m);
    const exported = await run(['export', '--out', 'events.ndjson'], lines);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stderr).toMatch(/^shardledger: exporting shard 1\/2: [0-9,]+ events/m);
  });

  it('keeps stderr free of progress when it is not a terminal, unless asked', async () => {
    const quiet = await run(['verify']);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
    const off = await run(['export', '--out', 'quiet.ndjson'], { SHARDLEDGER_PROGRESS: 'off' });
    expect(off.stderr).not.toContain('exporting shard');
    const bad = await run(['verify'], { SHARDLEDGER_PROGRESS: 'loud' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('SHARDLEDGER_PROGRESS must be one of auto, lines, off');
  });

  it('statement --no-catch-up without a read-model file exits 6, not as a bug', async () => {
    const missing = await run(['statement', 'alice', '--no-catch-up', '--path', 'none.sqlite']);
    expect(missing.code).toBe(6);
    expect(missing.stderr).toContain('READ_MODEL_NOT_FOUND: no read-model file at none.sqlite');
    expect(missing.stderr).toContain("create it with 'shardledger project'");
    expect(missing.stderr).not.toContain('bug');
  });

  it('statement --as-of before the account existed exits 6 with balance --as-of', async () => {
    const before = '2000-01-01T00:00:00Z';
    const balance = await run(['balance', 'alice', '--as-of', before]);
    const statement = await run(['statement', 'alice', '--as-of', before]);
    expect(balance.code).toBe(6);
    expect(statement.code).toBe(balance.code);
    expect(statement.stderr).toContain(
      `ACCOUNT_NOT_FOUND: account 'alice' did not exist as of ${before}`,
    );
    expect(balance.stderr).toContain(
      `ACCOUNT_NOT_FOUND: account 'alice' did not exist as of ${before}`,
    );
    const unknown = await run(['statement', 'nobody', '--as-of', before]);
    expect(unknown.code).toBe(6);
    const now = await run(['statement', 'alice', '--as-of', '2100-01-01T00:00:00Z']);
    expect(now.code, now.stderr).toBe(0);
    // 8,190 transfers of one cent.
    expect(transferCount).toBe(8_190);
    expect(now.stdout).toContain('balance at 2100-01-01T00:00:00.000Z: 81.90 USD');
  });
});
