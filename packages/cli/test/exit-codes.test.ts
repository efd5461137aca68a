// The exit codes are a public contract: docs/cli.md's table must match errors.ts, and every code
// of the ledger's error catalogue must map to a documented exit code. Reads both files.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { errorCatalogue } from '@shardledger/shard-router';
import { exitCodeOf, exitCodeOfStatus, exitCodeTable, exitCodes } from '../src/errors.js';

const docsPath = new URL('../../../docs/cli.md', import.meta.url);

describe('exit codes', () => {
  it('docs/cli.md lists exactly the exit codes of errors.ts, with the same meanings', async () => {
    const page = await readFile(docsPath, 'utf8');
    const start = page.indexOf('<!-- exit-codes:start');
    const end = page.indexOf('<!-- exit-codes:end -->');
    expect(start).toBeGreaterThan(-1);
    expect(end).toBeGreaterThan(start);
    const rows = page
      .slice(start, end)
      .split('\n')
      .map((line) => /^\| (\d+) \| (.*) \|$/.exec(line))
      .filter((match) => match !== null)
      .map((match) => ({ code: Number(match[1]), meaning: match[2] }));
    expect(rows).toEqual(exitCodeTable.map(({ code, meaning }) => ({ code, meaning })));
  });

  it('gives every exit code a row and every row a distinct code', () => {
    const codes = exitCodeTable.map((row) => row.code);
    expect(new Set(codes).size).toBe(codes.length);
    expect([...codes].sort((left, right) => left - right)).toEqual(
      Object.values(exitCodes).sort((left, right) => left - right),
    );
  });

  it('maps every catalogue code to a documented exit code, bugs to internal and rejections to non-zero', () => {
    const documented = new Set<number>(exitCodeTable.map((row) => row.code));
    for (const [code, entry] of Object.entries(errorCatalogue)) {
      const exitCode = exitCodeOf(code);
      expect(documented.has(exitCode), code).toBe(true);
      expect(exitCode, code).not.toBe(exitCodes.ok);
      if (entry.kind === 'bug') expect(exitCode, code).toBe(exitCodes.internal);
    }
  });

  it('treats ok and exists as success and keeps the distinct codes of the bad-input cases', () => {
    expect(exitCodeOfStatus('ok')).toBe(0);
    expect(exitCodeOfStatus('exists')).toBe(0);
    expect(exitCodeOfStatus('insufficient_funds')).toBe(exitCodes.rejected);
    expect(exitCodeOfStatus('account_not_found')).toBe(exitCodes.notFound);
    expect(exitCodeOfStatus('currency_mismatch')).toBe(exitCodes.currencyMismatch);
    expect(exitCodeOfStatus('invalid_amount')).toBe(exitCodes.usage);
    expect(exitCodeOf('NOT_A_LEDGER')).toBe(exitCodes.notALedger);
    expect(exitCodeOf('DIR_LOCKED')).toBe(exitCodes.locked);
    expect(exitCodeOf('IO_ERROR')).toBe(exitCodes.io);
  });
});
