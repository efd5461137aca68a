// Goal: `shardledger serve` runs the payments API on a data dir made by `shardledger init`, and
// SIGTERM lets a request in flight finish before the process exits. Method: the CLI and the
// simulated PSP as child processes; a payment is kept in flight by a slow PSP rule.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import * as h from './harness.js';

afterEach(h.killChildren); // a failed run leaves no PSP behind

const cli = fileURLToPath(new URL('../../cli/dist/main.js', import.meta.url));

it('serves on an initialised data dir and drains a request in flight on SIGTERM', async () => {
  const root = await h.tempDir('serve');
  const dir = join(root, 'data');
  expect(spawnSync(process.execPath, [cli, 'init', '--dir', dir]).status).toBe(0);
  const port = await h.freePort();
  const psp = await h.startPsp({
    webhookUrl: `http://127.0.0.1:${port}/v1/webhooks/psp/simpsp`,
    dir: root,
  });
  await h.setRules(psp.url, [{ match: { operation: 'authorize' }, action: 'delay', delayMs: 700 }]);
  const child = spawn(
    process.execPath,
    [
      cli,
      'serve',
      '--dir',
      dir,
      '--port',
      String(port),
      '--psp-url',
      psp.url,
      '--psp-secret',
      h.webhookSecret,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const lines = createInterface({ input: child.stdout });
  const line = await new Promise<string>((resolve) => lines.once('line', resolve));
  expect(line).toMatch(/^serving payments at http:\/\/127\.0\.0\.1:\d+/);
  const api = `http://127.0.0.1:${port}`;
  const inFlight = h.call(`${api}/v1/payments`, {
    body: h.checkout('serve-1', [['serve-1a', 'seller-s', '3.00']]),
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  child.kill('SIGTERM');
  const reply = await inFlight;
  expect(reply.status).toBe(201);
  expect(reply.body['status']).toBe('SUCCESS');
  expect(await exited).toBe(0);
  await psp.stop();
});
