// Goal: `shardledger reconcile` exits 0 when the file and the ledger agree, 1 when breaks are
// found, 2 when the file is refused; --json prints the report. Method: the built CLI run as a
// child process on a real data dir.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger } from '@shardledger/shard-router';
import { tempDir } from '@shardledger/ledger-core/testing';
import { createPspAccounts, pspTransfer, rowText, settlementText } from './settlement-fixtures.js';

const mainPath = fileURLToPath(new URL('../../cli/dist/main.js', import.meta.url));

let dir: string;
let cleanup: () => Promise<void>;

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [mainPath, ...args, '--dir', join(dir, 'ledger')], {
    encoding: 'utf8',
    env: { ...process.env, SHARDLEDGER_PROGRESS: 'off' },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('recon-cli'));
  const ledger = await Ledger.open({ dir: join(dir, 'ledger'), shards: 2 });
  await createPspAccounts(ledger);
  await ledger.createTransfers([
    pspTransfer('t-1', 'PO-1', 1234n),
    pspTransfer('t-2', 'PO-2', 500n),
  ]);
  await ledger.close();
  const settledAtMs = Date.now() + 1_000;
  const row = (recordId: string, reference: string, gross: bigint) =>
    rowText({
      recordId,
      type: 'capture',
      reference,
      currency: 'USD',
      gross,
      fee: 10n,
      settledAtMs,
    });
  await writeFile(
    join(dir, 'clean.csv'),
    settlementText([row('st_1', 'PO-1', 1234n), row('st_2', 'PO-2', 500n)]),
  );
  await writeFile(
    join(dir, 'breaks.csv'),
    settlementText([row('st_1', 'PO-1', 1234n), row('st_3', 'PO-3', 700n)]),
  );
  await writeFile(join(dir, 'empty.csv'), '');
});

afterAll(() => cleanup());

describe('shardledger reconcile', () => {
  it('exits 0 for a file the ledger agrees with', () => {
    const result = cli(['reconcile', join(dir, 'clean.csv'), '--profile', 'simulated']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/2 lines \(0 bad\), 2 ledger transfers, 2 lines matched/);
  });

  it('exits 1 with the breaks, as JSON with --json, and writes the report with --out', () => {
    const out = join(dir, 'report.csv');
    const result = cli([
      'reconcile',
      join(dir, 'breaks.csv'),
      '--profile',
      'simulated',
      '--json',
      '--out',
      out,
      '--format',
      'csv',
    ]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /INVARIANT_VIOLATED: the file and the ledger disagree: 2 open break/,
    );
    const report = JSON.parse(result.stdout) as { breaks: { type: string; reference: string }[] };
    expect(report.breaks.map((found) => `${found.type} ${found.reference}`).sort()).toEqual([
      'missing_in_ledger PO-3',
      'missing_in_settlement PO-2',
    ]);
    expect(readFileSync(out, 'utf8').split('\n')[0]).toMatch(/^break_id,type,cause,/);
  });

  it('exits 2 for a file it refuses, naming why', () => {
    const empty = cli(['reconcile', join(dir, 'empty.csv'), '--profile', 'simulated']);
    expect(empty.status).toBe(2);
    expect(empty.stderr).toMatch(/INVALID_ARGUMENT: .*empty/);
    const other = cli(['reconcile', join(dir, 'clean.csv'), '--profile', 'jsonl-minor']);
    expect(other.status).toBe(2);
    expect(other.stderr).toMatch(/not the 'jsonl-minor' profile's/);
  });
});
