// What the shardledger binary does with bad input: dirs that are missing, not a ledger or locked,
// malformed files, unknown options; and that every command's --help has examples. Child processes
// running dist/main.js on real temp dirs.
import { readdir, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger } from '@shardledger/shard-router';
import { cli, json, tempDir } from './cli-helpers.js';

describe('shardledger on bad input', () => {
  let cwd = '';
  let cleanup = async (): Promise<void> => undefined;
  const run = (...args: string[]) => cli(cwd, args);

  beforeAll(async () => {
    ({ dir: cwd, cleanup } = await tempDir());
  });
  afterAll(() => cleanup());

  it('refuses a missing data dir with exit 3 and does not create it', async () => {
    const refused = await run('transfer', '--from', 'a', '--to', 'b', '--amount', '1');
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(
      /^shardledger: NOT_A_LEDGER: no data dir at .*shardledger-data .*hint: .*init/,
    );
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    const created = await run('accounts', 'create', 'a', '--currency', 'USD', '--dir', 'elsewhere');
    expect(created.code).toBe(3);
    expect(await readdir(cwd)).toEqual([]);
  });

  it('refuses a dir that is not a ledger with exit 3 and leaves it untouched', async () => {
    await mkdir(join(cwd, 'photos'));
    await writeFile(join(cwd, 'photos', 'cat.jpg'), 'meow');
    for (const args of [['info'], ['accounts', 'list'], ['init']]) {
      const refused = await run(...args, '--dir', 'photos');
      expect(refused.code, args.join(' ')).toBe(3);
      expect(refused.stderr, args.join(' ')).toMatch(/^shardledger: NOT_A_LEDGER: /);
    }
    expect(await readdir(join(cwd, 'photos'))).toEqual(['cat.jpg']);
  });

  it('takes the dir from SHARDLEDGER_DIR', async () => {
    const made = await cli(cwd, ['init', '--shards', '1', '--json'], {
      SHARDLEDGER_DIR: 'from-env',
    });
    expect(made.code, made.stderr).toBe(0);
    expect(json(made)).toMatchObject({ created: true, shards: 1 });
    expect(await readdir(cwd)).toContain('from-env');
  });

  it('refuses a dir another process holds open with exit 4 (DIR_LOCKED)', async () => {
    const dir = join(cwd, 'from-env');
    const ledger = await Ledger.open({ dir });
    try {
      const refused = await run('accounts', 'create', 'x', '--currency', 'USD', '--dir', dir);
      expect(refused.code).toBe(4);
      expect(refused.stderr).toMatch(/^shardledger: DIR_LOCKED: .*hint: /);
    } finally {
      await ledger.close();
    }
    const [account] = await (async () => {
      const reopened = await Ledger.open({ dir });
      try {
        return await reopened.lookupAccounts(['x']);
      } finally {
        await reopened.close();
      }
    })();
    expect(account).toBeUndefined();
  });

  it('refuses unknown commands and options with exit 2 and one line', async () => {
    const misuses = [
      ['frobnicate'],
      ['transfer', '--frm', 'a'],
      ['history'],
      ['init', '--shards', 'many'],
      ['bench', 'standard', '--cross-shard', '0.5'],
      ['bench', 'cross-shard', '--cross-shard', '2'],
      ['bench', 'cross-shard', '--shards', '1'],
    ];
    for (const args of misuses) {
      const refused = await run(...args);
      expect(refused.code, args.join(' ')).toBe(2);
      expect(refused.stderr, args.join(' ')).toMatch(/^shardledger: USAGE_ERROR: /);
      expect(refused.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
  });

  it('refuses a malformed transfer file before writing anything', async () => {
    const dir = join(cwd, 'from-env');
    await writeFile(
      join(cwd, 'bad.ndjson'),
      '{"id":"t1","debitAccountId":"a","creditAccountId":"b","amount":"1"}\n{"id":"t2",\n',
    );
    const broken = await run('transfer', '--file', 'bad.ndjson', '--dir', dir);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/^shardledger: INVALID_INPUT: bad\.ndjson line 2: /);
    await writeFile(
      join(cwd, 'float.json'),
      '[{"id":"t1","debitAccountId":"a","creditAccountId":"b","amount":12.5}]',
    );
    const float = await run('transfer', '--file', 'float.json', '--dir', dir);
    expect(float.code).toBe(2);
    expect(float.stderr).toMatch(/^shardledger: INVALID_AMOUNT: /);
    const info = json<{ shardInfo: { lastSequence: number }[] }>(
      await run('info', '--json', '--dir', dir),
    );
    expect(info.shardInfo[0]?.lastSequence).toBe(0);
  });

  it('shows help with examples for every command, and the exit codes in the top-level help', async () => {
    const top = await run('--help');
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/Examples:/);
    expect(top.stdout).toMatch(/Exit codes:\n\s+0 /);
    const commands = [
      ['init'],
      ['accounts'],
      ['accounts', 'create'],
      ['accounts', 'show'],
      ['accounts', 'list'],
      ['transfer'],
      ['transfer', 'post'],
      ['transfer', 'void'],
      ['balance'],
      ['history'],
      ['verify'],
      ['snapshot'],
      ['export'],
      ['info'],
      ['replicate'],
      ['replicate', 'status'],
      ['bench'],
    ];
    const helps = await Promise.all(commands.map((args) => run(...args, '--help')));
    helps.forEach((help, index) => {
      const name = (commands[index] ?? []).join(' ');
      expect(help.code, name).toBe(0);
      expect(help.stdout, name).toMatch(new RegExp(`Examples:\\n  shardledger ${name}`));
    });
  });
});
