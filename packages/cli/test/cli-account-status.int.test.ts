// accounts freeze, unfreeze and close on a real data dir: one status per id, the rejections they
// cause and meet, exit codes, and help text that explains them. Method: the built CLI run inside
// the test process (cli-in-process.ts) on a temp dir.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, tempDir } from './cli-helpers.js';
import { cliInProcess } from './cli-in-process.js';

describe('shardledger accounts freeze, unfreeze and close', () => {
  let cwd = '';
  let cleanup = async (): Promise<void> => undefined;
  const run = (...args: string[]) => cliInProcess(cwd, args);
  const pay = (from: string, to: string, amount: string) =>
    run('transfer', '--from', from, '--to', to, '--amount', amount, '--currency', 'USD', '--json');

  beforeAll(async () => {
    ({ dir: cwd, cleanup } = await tempDir());
    expect((await run('init', '--shards', '2')).code).toBe(0);
    expect((await run('accounts', 'create', 'a', 'b', 'c', '--currency', 'USD')).code).toBe(0);
  });
  afterAll(() => cleanup());

  it('freeze reports one status per id and stops transfers on either side until unfreeze', async () => {
    const frozen = await run('accounts', 'freeze', 'a', 'nobody', '--json');
    expect(frozen.code).toBe(6);
    expect(frozen.stderr).toMatch(/ACCOUNT_NOT_FOUND/);
    expect(json(frozen)).toEqual([
      { id: 'a', status: 'ok' },
      { id: 'nobody', status: 'account_not_found' },
    ]);
    const again = await run('accounts', 'freeze', 'a', '--json');
    expect(again.code).toBe(0);
    expect(json(again)).toEqual([{ id: 'a', status: 'exists' }]);
    const shown = await run('accounts', 'show', 'a', '--json');
    expect(json<{ status: string }[]>(shown)[0]?.status).toBe('frozen');
    for (const [from, to] of [
      ['a', 'b'],
      ['b', 'a'],
    ] as const) {
      const refused = await pay(from, to, '1');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^shardledger: ACCOUNT_FROZEN: /);
    }
    const thawed = await run('accounts', 'unfreeze', 'a');
    expect(thawed.code, thawed.stderr).toBe(0);
    expect(thawed.stdout).toMatch(/a\s+ok/);
    expect((await pay('b', 'a', '2.50')).code).toBe(0);
  });

  it('close refuses a non-zero balance, closes a zero one for good, and is then met by ACCOUNT_CLOSED', async () => {
    const refused = await run('accounts', 'close', 'a');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^shardledger: ACCOUNT_BALANCE_NOT_ZERO: /);
    expect((await pay('a', 'b', '2.50')).code).toBe(0);
    const closed = await run('accounts', 'close', 'a', '--json');
    expect(closed.code, closed.stderr).toBe(0);
    expect(json(closed)).toEqual([{ id: 'a', status: 'ok' }]);
    expect(json(await run('accounts', 'close', 'a', '--json'))).toEqual([
      { id: 'a', status: 'exists' },
    ]);
    const paid = await pay('b', 'a', '1');
    expect(paid.code).toBe(1);
    expect(paid.stderr).toMatch(/^shardledger: ACCOUNT_CLOSED: /);
    const reopened = await run('accounts', 'unfreeze', 'a');
    expect(reopened.code).toBe(1);
    expect(reopened.stderr).toMatch(/ACCOUNT_CLOSED/);
  });

  it('explains each command to a newcomer in --help, with examples', async () => {
    const expected = {
      freeze: /ACCOUNT_FROZEN[\s\S]*Examples:\n {2}shardledger accounts freeze alice/,
      unfreeze: /Lifts "accounts freeze"[\s\S]*Examples:/,
      close: /ACCOUNT_BALANCE_NOT_ZERO[\s\S]*Examples:[\s\S]*shardledger accounts close alice/,
    };
    for (const [name, pattern] of Object.entries(expected)) {
      const help = await run('accounts', name, '--help');
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^Usage: shardledger accounts ${name} `));
      expect(help.stdout).toMatch(pattern);
    }
    const group = await run('accounts', '--help');
    expect(group.stdout).toMatch(/freeze \[options\] <ids\.\.\.>/);
    expect(group.stdout).toMatch(/close \[options\] <ids\.\.\.>/);
  });
});
