// Goal: an application that does not replicate never loads the NATS client (it costs hundreds of
// milliseconds at import and in every shard worker). Method: a real child process imports the
// built package (its application entry and its internals), opens a 2-shard ledger without
// replication in a temp dir, writes a transfer, and reports which @nats-io modules its main
// thread loaded; then the same process asks for replicationStatus of a cluster that is not
// there, which must load the client.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'lazy-nats-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const script = `
const natsLoaded = () => Object.keys(require.cache).filter((file) => file.includes('@nats-io')).length;
(async () => {
  const { Ledger, replicationStatus } = await import('@shardledger/shard-router');
  await import('@shardledger/shard-router/internals');
  const ledger = await Ledger.open({ dir: process.argv[1], shards: 2 });
  await ledger.createAccounts([{ id: 'a', currency: 'USD' }, { id: 'b', currency: 'USD' }]);
  const [result] = await ledger.createTransfers([
    { id: 't-1', debitAccountId: 'a', creditAccountId: 'b', amount: 5n, currency: 'USD' },
  ]);
  await ledger.close();
  const before = natsLoaded();
  const status = await replicationStatus({ servers: ['nats://127.0.0.1:9'] }).then(
    () => 'answered',
    (error) => error.code,
  );
  console.log(JSON.stringify({ status: result.status, before, after: natsLoaded(), replication: status }));
})();
`;

it('opens, writes and closes a ledger without loading the NATS client, and loads it for replication', () => {
  const out = execFileSync(process.execPath, ['-e', script, join(dir, 'ledger')], {
    cwd: join(import.meta.dirname, '..'),
    encoding: 'utf8',
    timeout: 60_000,
  });
  const report = JSON.parse(out.trim().split('\n').pop() as string);
  expect(report).toMatchObject({ status: 'ok', before: 0 });
  expect(report.after).toBeGreaterThan(0);
  expect(typeof report.replication).toBe('string');
});
