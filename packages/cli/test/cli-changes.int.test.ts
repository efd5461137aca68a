// The shardledger binary's `changes` command (the change feed) on a real 2-shard data dir that the
// test fills through the library first: NDJSON with balances and a cursor per line, --after
// resuming after a line, --from starting at a time, plain output, and --follow ending at SIGINT
// with the cursor to resume.
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger } from '@shardledger/shard-router';
import { cli, mainPath, tempDir } from './cli-helpers.js';

interface Line {
  readonly shard: number;
  readonly sequence: number;
  readonly timestamp: string;
  readonly event: { readonly type: string };
  readonly balances: readonly { readonly accountId: string; readonly creditsPosted: string }[];
  readonly cursor: string;
}

describe('shardledger changes', () => {
  let cwd = '';
  let cleanup = async (): Promise<void> => undefined;
  const run = (...args: string[]) => cli(cwd, args);
  let total = 0;

  beforeAll(async () => {
    ({ dir: cwd, cleanup } = await tempDir());
    await mkdir(join(cwd, 'shardledger-data'));
    const ledger = await Ledger.open({ dir: join(cwd, 'shardledger-data'), shards: 2 });
    try {
      const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
      await ledger.createAccounts(ids.map((id) => ({ id, currency: 'USD' })));
      await ledger.createTransfers(
        ids.map((id, index) => ({
          id: `t${index}`,
          debitAccountId: id,
          creditAccountId: ids[(index + 1) % ids.length] as string,
          amount: BigInt(100 + index),
          currency: 'USD',
        })),
      );
      const info = await ledger.info();
      total = info.shardInfo.reduce((sum, shard) => sum + shard.lastSequence, 0);
    } finally {
      await ledger.close();
    }
  });

  afterAll(() => cleanup());

  it('prints every event once as NDJSON with its balances and the cursor after it', async () => {
    const printed = await run('changes', '--json');
    expect(printed.code, printed.stderr).toBe(0);
    const lines = printed.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Line);
    expect(lines).toHaveLength(total);
    expect(new Set(lines.map((line) => `${line.shard}:${line.sequence}`)).size).toBe(total);
    const transfer = lines.find((line) => line.event.type !== 'AccountCreated');
    expect(transfer?.balances.length).toBeGreaterThan(0);
    expect(transfer?.balances[0]?.creditsPosted).toMatch(/^[0-9]+$/);
    expect(lines[lines.length - 1]?.cursor).toMatch(/^0:[0-9]+,1:[0-9]+$/);
    // Resuming after line 5 prints the rest (here as plain lines: every transfer crosses shards,
    // so each shard's saga step names its own account).
    const rest = await run('changes', '--after', (lines[4] as Line).cursor);
    expect(rest.code, rest.stderr).toBe(0);
    expect(rest.stdout.trim().split('\n')).toHaveLength(total - 5);
    expect(rest.stdout).toMatch(/^[01]:[0-9]+ ReservationCommitted [a-f]=-?[0-9]+$/m);
  });

  it('with --from, prints the events at or after a time (ns), and refuses a bad time', async () => {
    const all = (await run('changes', '--json')).stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Line);
    const from = BigInt((all[Math.floor(all.length / 2)] as Line).timestamp);
    const printed = await run('changes', '--json', '--from', String(from));
    expect(printed.code, printed.stderr).toBe(0);
    const lines = printed.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Line);
    const key = (line: Line) => `${line.shard}:${line.sequence}`;
    expect(lines.map(key).sort()).toEqual(
      all
        .filter((line) => BigInt(line.timestamp) >= from)
        .map(key)
        .sort(),
    );
    const refused = await run('changes', '--json', '--from', 'yesterday-ish');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('--from');
  });

  it('refuses a cursor that is not one (exit code of INVALID_ARGUMENT)', async () => {
    const refused = await run('changes', '--json', '--after', 'nonsense');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('INVALID_ARGUMENT');
  });

  it('with --follow, prints and waits until SIGINT, then the cursor to resume from', async () => {
    const child = spawn(process.execPath, [mainPath, 'changes', '--json', '--follow'], { cwd });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.trim().split('\n').length >= total) resolve();
      });
    });
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const last = JSON.parse(stdout.trim().split('\n').pop() as string) as Line;
    expect(stderr).toContain(`resume with --after "${last.cursor}"`);
  });
});
