// Goal: the example service in docs/payments.md runs as printed. Method: the block marked
// `<!-- payments-example -->` is run by node from the repository root (where
// `@shardledger/payments` resolves), on a fresh data dir; it asserts its own claims.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { tempDir } from './harness.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

it('runs the example service of docs/payments.md', async () => {
  const page = readFileSync(`${root}docs/payments.md`, 'utf8');
  const match = /<!-- payments-example -->\n```js\n([\s\S]*?)\n```/.exec(page);
  expect(match).not.toBeNull();
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', match![1]!], {
    cwd: root,
    env: { ...process.env, SHARDLEDGER_DIR: await tempDir('docs') },
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  expect(run.stdout).toContain("balance: '73.50'");
});
