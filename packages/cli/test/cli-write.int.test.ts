// The shardledger binary's writing commands on a real data dir: one ledger is built up command by
// command, checking output, JSON and exit codes. Most commands run inside the test process
// (cli-in-process.ts); init and the overdraft run the built binary as a child process (dist/main.js),
// so its exit codes are seen as a shell sees them.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, idsOnOneShard, json, tempDir } from './cli-helpers.js';
import { cliInProcess } from './cli-in-process.js';

describe('shardledger init, accounts and transfer', () => {
  let cwd = '';
  let cleanup = async (): Promise<void> => undefined;
  const run = (...args: string[]) => cliInProcess(cwd, args);
  const runChild = (...args: string[]) => cli(cwd, args);
  let alice = '';
  let bob = '';
  const bank = 'bank';

  beforeAll(async () => {
    ({ dir: cwd, cleanup } = await tempDir());
  });
  afterAll(() => cleanup());

  it('init creates ./shardledger-data with the shard count, and a second init changes nothing', async () => {
    const created = await runChild('init', '--shards', '2', '--json');
    expect(created.code, created.stderr).toBe(0);
    expect(json(created)).toMatchObject({ created: true, shards: 2, partitionCount: 4096 });
    const again = await runChild('init', '--json');
    expect(again.code, again.stderr).toBe(0);
    expect(json(again)).toMatchObject({ created: false, shards: 2 });
    const mismatch = await runChild('init', '--shards', '3');
    expect(mismatch.code).toBe(3);
    expect(mismatch.stderr).toMatch(/^shardledger: SHARD_COUNT_MISMATCH: /);
    // Pending transfers need both accounts on one shard.
    const ids = await idsOnOneShard(join(cwd, 'shardledger-data'), 'user', 2);
    alice = ids[0] ?? '';
    bob = ids[1] ?? '';
  });

  it('accounts create reports one status per id, and "exists" for an identical resubmission', async () => {
    const made = await run(
      'accounts',
      'create',
      alice,
      bob,
      '--currency',
      'USD',
      '--debits-must-not-exceed-credits',
      '--json',
    );
    expect(made.code, made.stderr).toBe(0);
    expect(json(made)).toEqual([
      { id: alice, status: 'ok' },
      { id: bob, status: 'ok' },
    ]);
    const cash = await run(
      'accounts',
      'create',
      bank,
      '--currency',
      'USD',
      '--metadata',
      'owner=treasury',
    );
    expect(cash.code, cash.stderr).toBe(0);
    expect(cash.stdout).toMatch(/bank\s+ok/);
    const again = await run(
      'accounts',
      'create',
      bank,
      '--currency',
      'USD',
      '--metadata',
      'owner=treasury',
    );
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/bank\s+exists/);
    const changed = await run('accounts', 'create', bank, '--currency', 'EUR');
    expect(changed.code).toBe(1);
    expect(changed.stderr).toMatch(/^shardledger: EXISTS_WITH_DIFFERENT_FIELDS: /);
  });

  it('transfer moves money in major units and shows it back with the currency', async () => {
    const moved = await run(
      'transfer',
      '--from',
      bank,
      '--to',
      alice,
      '--amount',
      '100.50',
      '--id',
      'fund-1',
    );
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toMatch(/fund-1\s+ok\s+100\.50 USD/);
    const minor = await run(
      'transfer',
      '--from',
      bank,
      '--to',
      bob,
      '--amount',
      '250',
      '--minor',
      '--currency',
      'USD',
      '--id',
      'fund-2',
      '--json',
    );
    expect(minor.code, minor.stderr).toBe(0);
    expect(json(minor)).toEqual([{ id: 'fund-2', status: 'ok' }]);
    const shown = await run('accounts', 'show', alice, bob, '--json');
    expect(shown.code, shown.stderr).toBe(0);
    expect(
      json<{ id: string; balance: string }[]>(shown).map(({ id, balance }) => [id, balance]),
    ).toEqual([
      [alice, '10050'],
      [bob, '250'],
    ]);
    const table = await run('accounts', 'show', alice);
    expect(table.stdout).toMatch(/100\.50 USD/);
  });

  it('transfer refuses an overdraft with exit 1 and a one-line INSUFFICIENT_FUNDS error', async () => {
    const refused = await runChild('transfer', '--from', bob, '--to', alice, '--amount', '2.51');
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/^shardledger: INSUFFICIENT_FUNDS: .*hint: /);
  });

  it('transfer refuses a malformed amount with exit 2 before touching the ledger', async () => {
    for (const amount of ['-5', '1e3', '0']) {
      const refused = await run('transfer', '--from', bank, '--to', alice, '--amount', amount);
      expect(refused.code, amount).toBe(2);
      expect(refused.stderr, amount).toMatch(/^shardledger: INVALID_AMOUNT: /);
    }
    // Finer than USD's two decimals: its own code, the same exit.
    const tooFine = await run('transfer', '--from', bank, '--to', alice, '--amount', '1.234');
    expect(tooFine.code).toBe(2);
    expect(tooFine.stderr).toMatch(/^shardledger: AMOUNT_TOO_PRECISE: /);
  });

  it('transfer names an unknown account with exit 6 and a wrong currency with exit 7', async () => {
    const unknownCredit = await run('transfer', '--from', bank, '--to', 'nobody', '--amount', '1');
    expect(unknownCredit.code).toBe(6);
    expect(unknownCredit.stderr).toMatch(/^shardledger: ACCOUNT_NOT_FOUND: /);
    const unknownDebit = await run('transfer', '--from', 'nobody', '--to', bank, '--amount', '1');
    expect(unknownDebit.code).toBe(6);
    const wrongCurrency = await run(
      'transfer',
      '--from',
      bank,
      '--to',
      alice,
      '--amount',
      '1',
      '--currency',
      'EUR',
    );
    expect(wrongCurrency.code).toBe(7);
    expect(wrongCurrency.stderr).toMatch(/^shardledger: CURRENCY_MISMATCH: /);
  });

  it('a pending transfer holds the amount until it is posted, in part', async () => {
    const held = await run(
      'transfer',
      '--from',
      alice,
      '--to',
      bob,
      '--amount',
      '10',
      '--pending',
      '--id',
      'hold-1',
    );
    expect(held.code, held.stderr).toBe(0);
    const during = json<{ available: string; debitsPending: string }>(
      await run('balance', alice, '--json'),
    );
    expect(during).toMatchObject({ available: '9050', debitsPending: '1000' });
    const posted = await run('transfer', 'post', 'hold-1', '--amount', '4.50', '--id', 'capture-1');
    expect(posted.code, posted.stderr).toBe(0);
    expect(posted.stdout).toMatch(/capture-1\s+ok\s+4\.50 USD/);
    const after = json<{ balance: string; debitsPending: string }>(
      await run('balance', alice, '--json'),
    );
    expect(after).toMatchObject({ balance: '9600', debitsPending: '0' });
    const twice = await run('transfer', 'void', 'hold-1');
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/^shardledger: PENDING_ALREADY_POSTED: /);
    const missing = await run('transfer', 'post', 'no-such-hold');
    expect(missing.code).toBe(6);
  });

  it('transfer --file applies a batch, and --atomic applies a group all or nothing', async () => {
    const ndjson = [
      JSON.stringify({ id: 'b-1', debitAccountId: bank, creditAccountId: bob, amount: '1.00' }),
      JSON.stringify({
        id: 'b-2',
        debitAccountId: bank,
        creditAccountId: bob,
        amount: 2,
        currency: 'USD',
      }),
    ].join('\n');
    await writeFile(join(cwd, 'batch.ndjson'), `${ndjson}\n`);
    const batch = await run('transfer', '--file', 'batch.ndjson', '--json');
    expect(batch.code, batch.stderr).toBe(0);
    expect(json(batch)).toEqual([
      { id: 'b-1', status: 'ok' },
      { id: 'b-2', status: 'ok' },
    ]);
    const group = [
      { id: 'g-1', debitAccountId: bank, creditAccountId: bob, amount: '1.00' },
      { id: 'g-2', debitAccountId: bob, creditAccountId: alice, amount: '1000.00' },
    ];
    await writeFile(join(cwd, 'group.json'), JSON.stringify(group));
    const atomic = await run('transfer', '--file', 'group.json', '--atomic', '--json');
    expect(atomic.code).toBe(1);
    expect(json(atomic)).toEqual([
      { id: 'g-1', status: 'linked_transfer_failed' },
      { id: 'g-2', status: 'insufficient_funds' },
    ]);
    expect(atomic.stderr).toMatch(/^shardledger: INSUFFICIENT_FUNDS: .*first g-2/);
    const bobAfter = json<{ balance: string }>(await run('balance', bob, '--json'));
    expect(bobAfter.balance).toBe(String(250 + 450 + 100 + 200)); // g-1 was not applied
  });
});
