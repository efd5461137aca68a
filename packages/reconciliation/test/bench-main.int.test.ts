// Goal: the reconcile bench still runs end to end and reports what it measured, on one thread and
// on a pool (its figures are not checked: timings are not tests). Method: the compiled bench
// entry, resolved through the package's `./bench` export as `shardledger bench reconcile` does,
// run as a child process on a small file.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('the reconcile bench', () => {
  it('reconciles its generated file with every line matched, on one thread and on a pool', async () => {
    const entry = fileURLToPath(import.meta.resolve('@shardledger/reconciliation/bench'));
    const { stdout } = await run(process.execPath, [entry, '--lines', '3000', '--threads', '2']);
    const result = JSON.parse(stdout) as {
      scenario: string;
      lines: number;
      runs: { threads: number; lines: number; linesMatched: number; breaks: number }[];
    };
    expect(result.scenario).toBe('reconcile');
    expect(result.runs.map((entryRun) => entryRun.threads)).toEqual([1, 2]);
    for (const measured of result.runs)
      expect(measured).toMatchObject({ lines: 3000, linesMatched: 3000, breaks: 0 });
  });
});
