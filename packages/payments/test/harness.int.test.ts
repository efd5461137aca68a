// Goal: a test that fails half-way leaves none of its child processes running. Method: the
// first test starts a real simulated PSP process and then fails (it is declared as failing);
// the second checks that the PSP's process is gone, killed by the afterEach hook.
import { afterEach, expect, it } from 'vitest';
import * as h from './harness.js';

afterEach(h.killChildren);

let pid: number | undefined;

it.fails('is a test that fails after starting the simulated PSP', async () => {
  const dir = await h.tempDir('teardown');
  const psp = await h.startPsp({ webhookUrl: 'http://127.0.0.1:9/hooks', dir });
  pid = psp.child.pid;
  expect(h.isRunning(pid!)).toBe(true);
  throw new Error('a failure half-way through a test');
});

it('finds the PSP process of the failed test killed', () => {
  expect(pid).toBeGreaterThan(0);
  expect(h.isRunning(pid!)).toBe(false);
});
