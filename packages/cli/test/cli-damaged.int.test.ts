// Goal: `shardledger verify` on a damaged shard file (events.mdb cut short, meta page 0 zeroed)
// exits 5 with STORAGE_CORRUPT naming the shard dir, instead of dying of SIGBUS or SIGSEGV with no
// message. Method: the built binary in a child process on a real 2-shard data dir, damaged with
// plain file writes.
import { cp, open, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, idsOnOneShard, tempDir } from './cli-helpers.js';

const PAGE_SIZE_BYTES = 4096;

describe('shardledger verify on a damaged shard file', () => {
  let cwd = '';
  let cleanup = async (): Promise<void> => undefined;
  const run = (...args: string[]) => cli(cwd, args);

  beforeAll(async () => {
    ({ dir: cwd, cleanup } = await tempDir());
    expect((await run('init', '--dir', 'clean', '--shards', '2')).code).toBe(0);
    const [from, to] = await idsOnOneShard(join(cwd, 'clean'), 'acct', 2);
    for (const id of [from, to] as string[])
      expect(
        (await run('accounts', 'create', id, '--currency', 'EUR', '--dir', 'clean')).code,
      ).toBe(0);
    expect(
      (
        await run(
          'transfer',
          '--from',
          from as string,
          '--to',
          to as string,
          '--amount',
          '1',
          '--currency',
          'EUR',
          '--dir',
          'clean',
        )
      ).code,
    ).toBe(0);
    expect((await run('verify', '--dir', 'clean')).code).toBe(0);
  });
  afterAll(() => cleanup());

  it('exits 5 with STORAGE_CORRUPT naming the shard when events.mdb is cut short', async () => {
    await cp(join(cwd, 'clean'), join(cwd, 'truncated'), { recursive: true });
    const file = join(cwd, 'truncated', 'shard-000', 'events.mdb');
    await truncate(file, Math.floor((await stat(file)).size / 2));
    const verified = await run('verify', '--dir', 'truncated');
    expect(verified.code).toBe(5);
    expect(verified.stderr).toMatch(
      /^shardledger: STORAGE_CORRUPT: .*dir=truncated\/shard-000, file=events\.mdb, problem=the file has \d+ bytes/,
    );
  });

  it('exits 5 with STORAGE_CORRUPT naming the shard when meta page 0 is zeroed', async () => {
    await cp(join(cwd, 'clean'), join(cwd, 'zeroed'), { recursive: true });
    const handle = await open(join(cwd, 'zeroed', 'shard-001', 'events.mdb'), 'r+');
    try {
      await handle.write(Buffer.alloc(PAGE_SIZE_BYTES), 0, PAGE_SIZE_BYTES, 0);
    } finally {
      await handle.close();
    }
    const verified = await run('verify', '--dir', 'zeroed');
    expect(verified.code).toBe(5);
    expect(verified.stderr).toMatch(
      /^shardledger: STORAGE_CORRUPT: .*dir=zeroed\/shard-001, file=events\.mdb, problem=page 0 is not a meta page/,
    );
  });
});
