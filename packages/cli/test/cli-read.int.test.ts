// The shardledger binary's reading commands (balance, history, accounts list, verify, export,
// info, snapshot) on a real data dir that the test fills through the library first, with accounts
// on both shards, a cross-shard transfer and a posted pending transfer. The commands run inside the
// test process (cli-in-process.ts), but export, whose output streams through a real pipe, runs the
// built binary as a child process (dist/main.js).
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger } from '@shardledger/shard-router';
import { cli, json, tempDir } from './cli-helpers.js';
import { cliInProcess } from './cli-in-process.js';

describe('shardledger balance, history, list, verify, export, info and snapshot', () => {
  let cwd = '';
  let cleanup = async (): Promise<void> => undefined;
  const run = (...args: string[]) => cliInProcess(cwd, args);
  // alice and bob on shard 0, bank on shard 1 (found below).
  let alice = '';
  let bob = '';
  let bank = '';

  beforeAll(async () => {
    ({ dir: cwd, cleanup } = await tempDir());
    // Ledger.open takes the dir's lock before creating it, so the dir must exist.
    await mkdir(join(cwd, 'shardledger-data'));
    const ledger = await Ledger.open({ dir: join(cwd, 'shardledger-data'), shards: 2 });
    try {
      const onShard = (shard: number, prefix: string, skip = 0): string => {
        let found = -1;
        for (let index = 0; ; index += 1) {
          if (ledger.shardOf(`${prefix}-${index}`) === shard && ++found === skip)
            return `${prefix}-${index}`;
        }
      };
      alice = onShard(0, 'user');
      bob = onShard(0, 'user', 1);
      bank = onShard(1, 'bank');
      const flags = { debitsMustNotExceedCredits: true };
      await ledger.createAccounts([
        { id: alice, currency: 'USD', ...flags },
        { id: bob, currency: 'USD', ...flags },
        { id: bank, currency: 'USD' },
      ]);
      const ok = (results: { status: string }[]): void =>
        expect(results.map((result) => result.status)).toEqual(results.map(() => 'ok'));
      ok(
        await ledger.createTransfers([
          {
            id: 'fund-1',
            debitAccountId: bank,
            creditAccountId: alice,
            amount: 10_050n,
            currency: 'USD',
          },
        ]),
      );
      ok(
        await ledger.createTransfers([
          {
            id: 'fund-2',
            debitAccountId: bank,
            creditAccountId: bob,
            amount: 250n,
            currency: 'USD',
          },
        ]),
      );
      ok(
        await ledger.createTransfers([
          {
            id: 'hold-1',
            debitAccountId: alice,
            creditAccountId: bob,
            amount: 1_000n,
            currency: 'USD',
            pending: true,
          },
        ]),
      );
      ok(
        await ledger.postPendingTransfers([{ id: 'capture-1', pendingId: 'hold-1', amount: 450n }]),
      );
      ok(
        await ledger.createTransfers([
          { id: 'b-1', debitAccountId: alice, creditAccountId: bob, amount: 100n, currency: 'USD' },
        ]),
      );
      ok(
        await ledger.createTransfers([
          { id: 'b-2', debitAccountId: alice, creditAccountId: bob, amount: 200n, currency: 'USD' },
        ]),
      );
    } finally {
      await ledger.close();
    }
  });
  afterAll(() => cleanup());

  it('balance --as-of shows the balance at a past sequence number and time', async () => {
    const history = json<{
      entries: { sequence: number; timestamp: string; creditsPosted: string }[];
    }>(await run('history', alice, '--json'));
    // The funding may be cross-shard (reserved, then committed): take the posting that credited it.
    const first = history.entries.find((entry) => entry.creditsPosted === '10050');
    expect(first).toBeDefined();
    const atFunding = json<{ balance: string; asOf: string }>(
      await run('balance', alice, '--as-of', `seq:${first?.sequence ?? 0}`, '--json'),
    );
    expect(atFunding).toMatchObject({ balance: '10050', asOf: `seq:${first?.sequence ?? 0}` });
    const iso = new Date(Number(BigInt(first?.timestamp ?? '0') / 1_000_000n)).toISOString();
    const atTime = json<{ balance: string }>(await run('balance', alice, '--as-of', iso, '--json'));
    expect(atTime.balance).toBe('10050');
    const before = await run('balance', alice, '--as-of', '2001-01-01T00:00:00Z');
    expect(before.code).toBe(6);
    const malformed = await run('balance', alice, '--as-of', 'yesterday');
    expect(malformed.code).toBe(2);
  });

  it('history pages through postings with --limit and --after', async () => {
    type Page = { entries: { sequence: number }[]; next: string | null };
    const all = json<Page>(await run('history', bob, '--json'));
    expect(all.entries.length).toBeGreaterThanOrEqual(4);
    expect(all.next).toBeNull();
    const first = json<Page>(await run('history', bob, '--limit', '2', '--json'));
    expect(first.entries).toHaveLength(2);
    expect(first.next).not.toBeNull();
    const second = json<Page>(
      await run('history', bob, '--limit', '2', '--after', first.next as string, '--json'),
    );
    expect([...first.entries, ...second.entries].map((entry) => entry.sequence)).toEqual(
      all.entries.slice(0, 4).map((entry) => entry.sequence),
    );
    const table = await run('history', bob, '--limit', '2');
    expect(table.stdout).toMatch(/next page: shardledger history .* --after \d+ --limit 2/);
  });

  it('statement pages its entries with --limit and --after, as history does', async () => {
    type Page = { entries: { transferId: string }[]; next: string | null };
    const all = json<Page>(await run('statement', bob, '--json'));
    expect(all.entries.length).toBeGreaterThanOrEqual(3);
    expect(all.next).toBeNull();
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page: Page = json<Page>(
        await run(
          'statement',
          bob,
          '--limit',
          '2',
          '--json',
          ...(after === null ? [] : ['--after', after]),
        ),
      );
      expect(page.entries.length).toBeLessThanOrEqual(2);
      seen.push(...page.entries.map((entry) => entry.transferId));
      after = page.next;
    } while (after !== null);
    expect(seen).toEqual(all.entries.map((entry) => entry.transferId));
    const table = await run('statement', bob, '--limit', '1');
    expect(table.stdout).toMatch(/next page: --after \S+/);
  });

  it('accounts list finds every account on every shard, sorted, with a currency filter', async () => {
    const listed = await run('accounts', 'list', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    expect(json<{ id: string }[]>(listed).map((account) => account.id)).toEqual(
      [alice, bank, bob].sort(),
    );
    const none = await run('accounts', 'list', '--currency', 'EUR');
    expect(none.stdout.trim()).toBe('no accounts');
  });

  it('accounts list --limit N pages the account index, and --after goes on from an id', async () => {
    const sorted = [alice, bank, bob].sort();
    const first = await run('accounts', 'list', '--limit', '2', '--json');
    expect(first.code, first.stderr).toBe(0);
    expect(json<{ id: string; status: string }[]>(first)).toMatchObject([
      { id: sorted[0], status: 'open' },
      { id: sorted[1], status: 'open' },
    ]);
    const rest = await run('accounts', 'list', '--after', sorted[1] as string, '--json');
    expect(json<{ id: string }[]>(rest).map((account) => account.id)).toEqual([sorted[2]]);
  });

  it('verify replays every shard and exits 0 on a clean ledger', async () => {
    const verified = await run('verify', '--json');
    expect(verified.code, verified.stderr).toBe(0);
    expect(json(verified)).toMatchObject({ ok: true, violations: [], shards: 2 });
    expect((await run('verify')).stdout).toMatch(
      /^ok: 2 shards, \d+ events replayed, no violations/,
    );
  });

  it('export writes one parseable NDJSON line per event, with shard, sequence and bigints as strings', async () => {
    const exported = await cli(cwd, ['export']);
    expect(exported.code, exported.stderr).toBe(0);
    const lines = exported.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const info = json<{ shardInfo: { lastSequence: number }[] }>(await run('info', '--json'));
    expect(lines).toHaveLength(info.shardInfo.reduce((sum, shard) => sum + shard.lastSequence, 0));
    for (const line of lines) {
      expect(typeof line.shard).toBe('number');
      expect(typeof line.sequence).toBe('number');
      expect(typeof line.type).toBe('string');
      expect(line.timestamp).toMatch(/^[0-9]+$/);
    }
    const transfer = lines.find((line) => line.type === 'TransferCreated') as
      { transfer: { amount: unknown } } | undefined;
    expect(transfer?.transfer.amount).toMatch(/^[0-9]+$/);
    const toFile = await run('export', '--out', 'events.ndjson');
    expect(toFile.code, toFile.stderr).toBe(0);
    expect(await readFile(join(cwd, 'events.ndjson'), 'utf8')).toBe(exported.stdout);
  });

  it('info --json reports shards, partitions and per-shard sequence numbers', async () => {
    const info = await run('info', '--json');
    expect(info.code, info.stderr).toBe(0);
    const parsed = json<{
      shards: number;
      partitionCount: number;
      shardInfo: { lastSequence: number; logSizeBytes: number }[];
    }>(info);
    expect(parsed.shards).toBe(2);
    expect(parsed.partitionCount).toBe(4096);
    expect(parsed.shardInfo).toHaveLength(2);
    expect(
      parsed.shardInfo.every((shard) => shard.lastSequence > 0 && shard.logSizeBytes > 0),
    ).toBe(true);
    const table = await run('info');
    expect(table.stdout).toMatch(/USD/);
  });

  it('snapshot snapshots every shard', async () => {
    const taken = await run('snapshot', '--json');
    expect(taken.code, taken.stderr).toBe(0);
    expect(
      json<{ shard: number; sequence: number }[]>(taken).map((snapshot) => snapshot.shard),
    ).toEqual([0, 1]);
  });
});
