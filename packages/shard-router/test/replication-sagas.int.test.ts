// Goal: a cross-shard saga whose step fails with REPLICATION_UNAVAILABLE (the shard streams lost
// their quorum) is finished once the quorum returns, as after a worker crash: no money stays
// reserved, the transfer is posted on both sides or on neither, and verify() is clean, here and in
// a dir restored from the streams. Method: a real 3-node nats-server cluster on loopback; two
// nodes are killed before the saga and one is started again after the router's retries of the
// saga have run out.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '@shardledger/ledger-core/testing';
import { Ledger, type Account } from '../src/index.js';
import { startNatsCluster, type NatsCluster } from './nats-cluster.js';
import { errorCodeOf } from './ledger-fixtures.js';

let cluster: NatsCluster;
const cleanups: (() => Promise<void>)[] = [];
/** Prints the steps a test reached if it nears its time bound (cleared after each test). */
let reportTimer: NodeJS.Timeout | undefined;
afterEach(() => clearTimeout(reportTimer));

beforeAll(async () => {
  cluster = await startNatsCluster();
});

afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
  await cluster.stop();
});

async function openReplicated(name: string, ackTimeoutMs: number): Promise<Ledger> {
  const { dir, cleanup } = await tempDir('replication-sagas');
  cleanups.push(cleanup);
  return Ledger.open({
    dir,
    shards: 2,
    replication: { servers: [...cluster.servers], name, ackTimeoutMs },
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Every account's balances, or undefined while the shards refuse reads. */
async function accountsNow(ledger: Ledger, ids: string[]): Promise<Account[] | undefined> {
  try {
    return (await ledger.lookupAccounts(ids)) as Account[];
  } catch {
    return undefined;
  }
}

describe('cross-shard sagas in replicated durability', () => {
  it('finishes a saga that failed without a quorum once the quorum returns', async () => {
    const name = 'saga-quorum';
    const ledger = await openReplicated(name, 300);
    const candidates = Array.from({ length: 16 }, (_, index) => `acct-${index}`);
    const payer = candidates.find((id) => ledger.shardOf(id) === 0) as string;
    const payee = candidates.find((id) => ledger.shardOf(id) === 1) as string;
    const ids = ['bank', payer, payee];
    await ledger.createAccounts(ids.map((id) => ({ id, currency: 'USD' })));
    const funded = await ledger.createTransfers([
      { id: 'fund', debitAccountId: 'bank', creditAccountId: payer, amount: 100n, currency: 'USD' },
    ]);
    expect(funded.map((result) => result.status)).toEqual(['ok']);

    await Promise.all([cluster.kill(1), cluster.kill(2)]);
    // Each step's time since the kill, for the failure messages: under a loaded machine the
    // cluster's return is what takes long.
    const killedAtMs = Date.now();
    const steps: string[] = [];
    const step = (name: string): number => steps.push(`${name} at ${Date.now() - killedAtMs} ms`);
    // If a wait outlasts the test's bound, the steps reached are printed before it times out.
    reportTimer = setTimeout(() => {
      process.stderr.write(`replication-sagas: steps before the bound: ${steps.join('; ')}\n`);
    }, 140_000);
    reportTimer.unref();
    const saga = { id: 'pay', debitAccountId: payer, creditAccountId: payee, amount: 40n };
    expect(await errorCodeOf(ledger.createTransfers([{ ...saga, currency: 'USD' }]))).toBe(
      'REPLICATION_UNAVAILABLE',
    );
    // Longer than the router's own retries of the saga (20 attempts, about 3.5 s).
    await sleep(5_000);
    await cluster.start(1);
    step('node 1 started');

    const deadline = Date.now() + 30_000;
    let accounts = await accountsNow(ledger, ids);
    const reserved = (found: Account[] | undefined): boolean =>
      found === undefined ||
      found.some((account) => account.debitsPending !== 0n || account.creditsPending !== 0n);
    while (reserved(accounts) && Date.now() < deadline) {
      await sleep(250);
      accounts = await accountsNow(ledger, ids);
    }
    step('reservations checked');
    expect(accounts, steps.join('; ')).toBeDefined();
    expect(reserved(accounts), steps.join('; ')).toBe(false);
    const [bank, from, to] = accounts as Account[];
    expect(bank?.debitsPosted).toBe(100n);
    // Posted on both sides, or on neither: never half.
    expect(from?.debitsPosted).toBe(to?.creditsPosted);
    step('verifying');
    expect((await ledger.verify()).ok, steps.join('; ')).toBe(true);
    const live = accounts?.map((account) => `${account.id}:${account.balance}`);
    step('closing');
    await ledger.close();
    step('closed');

    await cluster.start(2);
    step('node 2 started');
    const restored = await openReplicated(name, 5_000);
    step('restored');
    try {
      const found = (await restored.lookupAccounts(ids)) as Account[];
      expect(
        found.map((account) => `${account.id}:${account.balance}`),
        steps.join('; '),
      ).toEqual(live);
      expect(reserved(found)).toBe(false);
      step('verifying the restored dir');
      expect((await restored.verify()).ok, steps.join('; ')).toBe(true);
    } finally {
      await restored.close();
    }
    // Its bounded waits (5 s, then 30 s for the quorum's return, then a restore from the
    // streams) add up to more than the suite's 60 s under a loaded machine.
  }, 150_000);
});
