// Amounts at each currency's scale through the built CLI: ISO 4217 scales (KRW 0, KWD 3, USD 2),
// an asset that names its scale (USDC/6), and the refusals, each checked in the minor units the
// ledger booked. Every command runs inside the test process (cli-in-process.ts) on a temp data
// dir: the other CLI tests cover the binary as a child process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, tempDir } from './cli-helpers.js';
import { cliInProcess } from './cli-in-process.js';

describe('shardledger amounts at the scale of each currency', () => {
  let cwd = '';
  let cleanup = async (): Promise<void> => undefined;
  const run = (...args: string[]) => cliInProcess(cwd, args);
  const balanceOf = async (id: string): Promise<{ balance: string; scale: number }> =>
    json(await run('balance', id, '--json'));

  beforeAll(async () => {
    ({ dir: cwd, cleanup } = await tempDir());
    expect((await run('init', '--shards', '2')).code).toBe(0);
    for (const [currency, ids] of [
      ['KRW', ['won-a', 'won-b']],
      ['KWD', ['dinar-a', 'dinar-b']],
      ['USDC/6', ['coin-a', 'coin-b']],
    ] as const) {
      const created = await run('accounts', 'create', ...ids, '--currency', currency);
      expect(created.code, created.stderr).toBe(0);
    }
  }, 60_000);

  afterAll(() => cleanup());

  it('books --amount 1000 --currency KRW as 1000 minor units (KRW has no decimals)', async () => {
    const sent = await run(
      'transfer',
      ...['--from', 'won-a', '--to', 'won-b', '--amount', '1000', '--currency', 'KRW'],
    );
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toContain('1000 KRW');
    expect(await balanceOf('won-b')).toMatchObject({ balance: '1000', scale: 0 });
  });

  it('books --amount 1.500 --currency KWD as 1500 minor units (KWD has three)', async () => {
    const sent = await run(
      'transfer',
      ...['--from', 'dinar-a', '--to', 'dinar-b', '--amount', '1.500', '--currency', 'KWD'],
    );
    expect(sent.code, sent.stderr).toBe(0);
    expect(await balanceOf('dinar-b')).toMatchObject({ balance: '1500', scale: 3 });
    const shown = await run('balance', 'dinar-b');
    expect(shown.stdout).toMatch(/balance\s+1\.500 KWD/);
  });

  it('reads an asset amount at the scale its code declares, the currency taken from the account', async () => {
    const sent = await run(
      'transfer',
      '--from',
      'coin-a',
      '--to',
      'coin-b',
      '--amount',
      '2.000001',
    );
    expect(sent.code, sent.stderr).toBe(0);
    expect(await balanceOf('coin-b')).toMatchObject({ balance: '2000001', scale: 6 });
    const listed = await run('accounts', 'show', 'coin-b');
    expect(listed.stdout).toContain('2.000001 USDC/6');
  });

  it('refuses an amount finer than the scale, and books nothing', async () => {
    const refused = await run(
      'transfer',
      ...['--from', 'won-a', '--to', 'won-b', '--amount', '1.5', '--id', 'too-fine'],
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('AMOUNT_TOO_PRECISE');
    expect(refused.stderr).toContain('KRW has 0');
    const lookup = await run('history', 'won-b', '--json');
    const entries = json<{ entries: { transferId: string }[] }>(lookup).entries;
    expect(entries.map((entry) => entry.transferId)).not.toContain('too-fine');
  });

  it('refuses an account in a plain code that is not ISO 4217 rather than guessing its scale', async () => {
    const refused = await run('accounts', 'create', 'pts-a', '--currency', 'PTS');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('CURRENCY_UNKNOWN');
    expect((await run('accounts', 'show', 'pts-a')).code).toBe(6);
    expect((await run('accounts', 'create', 'pts-a', '--currency', 'PTS/0')).code).toBe(0);
  });
});
