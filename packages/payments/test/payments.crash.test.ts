// Goal: after SIGKILL of the payments server mid-payment and a restart, every payment ends
// exactly once, the ledger's balances match the payments, and no hold outlives its payment's
// expiry. Method: real child processes (the simulated PSP and the server); the server is killed
// while PSP calls are in flight, restarted on the same data dir, then stopped, and the ledger
// is opened and verified directly.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Ledger } from '@shardledger/shard-router';
import { afterEach, expect, it } from 'vitest';
import * as h from './harness.js';

afterEach(h.killChildren); // a failed run leaves no server or PSP behind

it('ends every payment once after a SIGKILL mid-payment, with the ledger in agreement', async () => {
  const dir = await h.tempDir('crash');
  const port = await h.freePort();
  const psp = await h.startPsp({
    webhookUrl: `http://127.0.0.1:${port}/v1/webhooks/psp/simpsp`,
    dir,
  });
  await h.setRules(psp.url, [
    { match: { operation: 'authorize', reference: 'slow-*' }, action: 'delay', delayMs: 1_500 },
    { match: { operation: 'authorize', reference: 'stuck-*' }, action: 'timeout', delayMs: 60_000 },
  ]);
  // Four shards: the sellers' wallets spread over them, so holds run as cross-shard pending
  // transfers, each alone, rather than as one atomic group.
  let server = await h.startServer({ dir, port, pspUrl: psp.url, pspTimeoutMs: 5_000, shards: 4 });
  const api = server.url;
  const orders: [string, string, string][] = [
    ['slow-1', 'seller-1', '40.00'],
    ['slow-2', 'seller-2', '60.00'],
  ];
  const inFlight = [
    h.call(`${api}/v1/payments`, { body: h.checkout('crash-1', orders) }).catch(() => undefined),
    h
      .call(`${api}/v1/payments`, {
        body: h.checkout('crash-2', [['stuck-1', 'seller-3', '5.00']], { expires_in_ms: 1_000 }),
      })
      .catch(() => undefined),
    h
      .call(`${api}/v1/payments`, { body: h.checkout('crash-3', [['fast-1', 'seller-4', '7.00']]) })
      .catch(() => undefined),
  ];
  // Killed once crash-1 is at the PSP and crash-2 is stored (a loaded machine may take a while
  // to store it); crash-3 may or may not have been stored by then.
  await h.eventually(
    () => h.call(`${api}/v1/payments/crash-1`),
    (r) => r.body['status'] === 'EXECUTING',
  );
  await h.eventually(
    () => h.call(`${api}/v1/payments/crash-2`),
    (r) => r.status === 200,
  );
  await server.stop('SIGKILL');
  await Promise.all(inFlight);

  server = await h.startServer({ dir, port, pspUrl: psp.url, pspTimeoutMs: 1_000 });
  const final = async (id: string) =>
    h.eventually(
      () => h.call(`${api}/v1/payments/${id}`),
      (r) =>
        r.body['ledger_synced'] === true &&
        !['NOT_STARTED', 'EXECUTING'].includes(String(r.body['status'])),
      15_000,
    );
  expect((await final('crash-1')).body['status']).toBe('SUCCESS');
  expect((await final('crash-2')).body['status']).toBe('EXPIRED');
  const third = await h.call(`${api}/v1/payments/crash-3`);
  expect([404, 200]).toContain(third.status); // killed before or after it was stored
  if (third.status === 200) expect((await final('crash-3')).body['status']).toBe('SUCCESS');
  const counts = await h.pspCounts(psp.url);
  expect([counts['authorize:slow-1'], counts['authorize:slow-2']]).toEqual([1, 1]);
  expect([counts['capture:slow-1'], counts['capture:slow-2']]).toEqual([1, 1]);
  expect(await server.stop('SIGTERM')).toBe(0);
  await psp.stop();

  // The ledger, opened directly: balances follow the payments, nothing is left pending.
  const ledger = await Ledger.open({ dir });
  try {
    const ids = ['wallet:seller-1:USD', 'wallet:seller-2:USD', 'wallet:seller-3:USD', 'fees:USD'];
    const [one, two, three, fees] = await ledger.lookupAccounts(ids);
    expect([one?.balance, two?.balance, three?.balance]).toEqual([3_920n, 5_880n, 0n]);
    expect([one?.creditsPending, two?.creditsPending, three?.creditsPending]).toEqual([0n, 0n, 0n]);
    expect(fees?.creditsPending).toBe(0n);
    expect(new Set(ids.map((id) => ledger.shardOf(id))).size).toBeGreaterThan(1);
    expect((await ledger.verify()).ok).toBe(true);
    const db = new Database(join(dir, 'payments.sqlite'), { readonly: true });
    const unsynced = db.prepare('SELECT count(*) AS n FROM payments WHERE ledger_synced = 0').get();
    db.close();
    expect(unsynced).toEqual({ n: 0 });
  } finally {
    await ledger.close();
  }
});
