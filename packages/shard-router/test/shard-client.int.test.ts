// Goal: ShardClient drives a real shard worker (compiled dist) on a temp dir: results in order, coalescing, crash and recovery.
import { join } from 'node:path';
import { tempDir } from '@shardledger/ledger-core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  isLedgerError,
  limits,
  parseAccount,
  parseTransfer,
  type Command,
} from '@shardledger/ledger-core';
import { failpointNames } from '../src/failpoints.js';
import { ShardClient } from '../src/shard/shard-client.js';
import type { ShardRestartEvent } from '../src/shard/worker-lifecycle.js';

let root: string;
let cleanup: () => Promise<void>;
const clients: ShardClient[] = [];
beforeEach(async () => {
  ({ dir: root, cleanup } = await tempDir('client'));
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await cleanup();
});

interface TestClientOptions {
  readonly queueDepthMax?: number;
  readonly onRestart?: (event: ShardRestartEvent) => void;
  readonly durability?: 'strict' | 'relaxed';
}

async function openClient(options: TestClientOptions = {}): Promise<ShardClient> {
  const { durability = 'relaxed', ...rest } = options;
  const client = await ShardClient.open({
    shard: 0,
    dir: join(root, 'shard-000'),
    engine: { durability },
    ...rest,
  });
  clients.push(client);
  return client;
}

function account(id: string): Command {
  const parsed = parseAccount({ id, currency: 'USD' });
  if (!parsed.ok) throw new Error(parsed.code);
  return { type: 'CreateAccount', account: parsed.value };
}

function transfer(
  id: string,
  debitAccountId: string,
  creditAccountId: string,
  amount: bigint,
): Command {
  const parsed = parseTransfer({ id, debitAccountId, creditAccountId, amount, currency: 'USD' });
  if (!parsed.ok) throw new Error(parsed.code);
  return { type: 'CreateTransfer', transfer: parsed.value };
}

async function errorCodeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return isLedgerError(error) ? error.code : `not a LedgerError: ${String(error)}`;
  }
  return undefined;
}

describe('ShardClient', () => {
  it('submits accounts and transfers through a real worker, bigints above 64 bits included', async () => {
    const client = await openClient({ durability: 'strict' });
    const huge = (1n << 100n) + 7n;
    const results = await client.submit([
      account('a'),
      account('b'),
      transfer('t1', 'a', 'b', 100n),
      transfer('t2', 'a', 'b', huge),
    ]);
    expect(results.map((result) => result.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(typeof results[2]?.timestamp).toBe('bigint');

    const [a, missing, b] = await client.lookupAccounts(['a', 'missing', 'b']);
    expect(missing).toBeUndefined();
    expect(a?.debitsPosted).toBe(100n + huge);
    expect(b?.creditsPosted).toBe(100n + huge);
    const [t2] = await client.lookupTransfers(['t2']);
    expect(t2?.amount).toBe(huge);

    const again = await client.submit([
      transfer('t1', 'a', 'b', 100n),
      transfer('t3', 'a', 'nobody', 1n),
    ]);
    expect(again.map((result) => result.status)).toEqual(['exists', 'account_not_found']);
    expect((await client.readEvents(0, 10)).length).toBe(4);
    expect((await client.verify()).ok).toBe(true);
    expect((await client.info()).accounts).toBe(2);
  });

  it('coalesces 100 concurrent calls into few messages and gives each call its own results in order', async () => {
    const client = await openClient();
    await client.submit([account('a'), account('b')]);
    const sentBefore = client.submitMessagesSent;
    // Call i moves i+1 from a to b; every 10th also names a missing account, every 25th first
    // repeats c-0 (created by call 0, so 'exists' everywhere but in call 0 itself).
    const expected: string[][] = [];
    const calls = Array.from({ length: 100 }, (_, index) => {
      const commands = [transfer(`c-${index}`, 'a', 'b', BigInt(index + 1))];
      const statuses = ['ok'];
      if (index % 10 === 0) {
        commands.push(transfer(`bad-${index}`, 'a', 'ghost', 1n));
        statuses.push('account_not_found');
      }
      if (index % 25 === 0) {
        commands.push(transfer('c-0', 'a', 'b', 1n));
        statuses.push('exists');
      }
      expected.push(statuses);
      return client.submit(commands);
    });
    const results = await Promise.all(calls);
    expect(client.submitMessagesSent - sentBefore).toBeLessThanOrEqual(2);
    expect(results.map((callResults) => callResults.map((result) => result.status))).toEqual(
      expected,
    );
    const [a] = await client.lookupAccounts(['a']);
    expect(a?.debitsPosted).toBe((100n * 101n) / 2n);
  });

  it('fails in-flight calls with SHARD_UNAVAILABLE when the worker dies after committing, and recovers so a retry returns exists', async () => {
    const restarts: ShardRestartEvent[] = [];
    const client = await openClient({ onRestart: (event) => restarts.push(event) });
    await client.submit([account('a'), account('b')]);
    await client.armFailpoint(failpointNames.shardSubmitAfterCommitBeforeReply, {
      action: 'exit-worker',
    });
    const inFlight = [client.submit([transfer('x1', 'a', 'b', 5n)]), client.lookupAccounts(['a'])];
    const [submitCode] = await Promise.all(inFlight.map((call) => errorCodeOf(call)));
    expect(submitCode).toBe('SHARD_UNAVAILABLE');

    // The next calls wait for the replacement worker, which recovered x1 from the log.
    const retry = await client.submit([transfer('x1', 'a', 'b', 5n), transfer('x2', 'a', 'b', 6n)]);
    expect(retry.map((result) => result.status)).toEqual(['exists', 'ok']);
    expect(client.generation).toBe(1);
    expect(restarts).toHaveLength(1);
    expect(restarts[0]?.generation).toBe(1);
    const [a] = await client.lookupAccounts(['a']);
    expect(a?.debitsPosted).toBe(11n);
  });

  it('loses nothing and applies nothing twice when the worker dies before appending', async () => {
    const client = await openClient();
    await client.submit([account('a'), account('b')]);
    await client.armFailpoint(failpointNames.shardSubmitBeforeAppend, {
      action: 'exit-worker',
      after: 2,
    });
    const first = client.submit([transfer('y1', 'a', 'b', 1n)]);
    expect((await first).map((result) => result.status)).toEqual(['ok']);
    expect(await errorCodeOf(client.submit([transfer('y2', 'a', 'b', 2n)]))).toBe(
      'SHARD_UNAVAILABLE',
    );
    const retry = await client.submit([transfer('y1', 'a', 'b', 1n), transfer('y2', 'a', 'b', 2n)]);
    expect(retry.map((result) => result.status)).toEqual(['exists', 'ok']);
    expect((await client.verify()).ok).toBe(true);
  });

  it('applies every transfer exactly once when the worker dies in five rounds of concurrent calls that retry', async () => {
    const client = await openClient();
    await client.submit([account('a'), account('b')]);
    const callCount = 200;
    const call = async (index: number): Promise<string> => {
      for (;;) {
        try {
          const [result] = await client.submit([
            transfer(`load-${index}`, 'a', 'b', BigInt(index + 1)),
          ]);
          return result?.status ?? 'missing';
        } catch (error) {
          if (!isLedgerError(error, 'SHARD_UNAVAILABLE')) throw error;
        }
      }
    };
    // Each round arms a crash (alternating before append / after commit), then 40 concurrent
    // callers hit it; the failed ones retry through the replacement worker.
    const rounds = 5;
    const statuses: string[] = [];
    for (let round = 0; round < rounds; round++) {
      const point =
        round % 2 === 0
          ? failpointNames.shardSubmitBeforeAppend
          : failpointNames.shardSubmitAfterCommitBeforeReply;
      await client.armFailpoint(point, { action: 'exit-worker' });
      const perRound = callCount / rounds;
      const calls = Array.from({ length: perRound }, (_, offset) =>
        call(round * perRound + offset),
      );
      statuses.push(...(await Promise.all(calls)));
    }
    expect(statuses).toHaveLength(callCount);
    expect(statuses.every((status) => status === 'ok' || status === 'exists')).toBe(true);
    expect(statuses.filter((status) => status === 'exists').length).toBeGreaterThan(0);
    expect(client.generation).toBe(rounds);
    const [a] = await client.lookupAccounts(['a']);
    expect(a?.debitsPosted).toBe(BigInt((callCount * (callCount + 1)) / 2));
    expect((await client.verify()).ok).toBe(true);
  });

  it('rejects a throw failpoint with FAILPOINT and keeps serving', async () => {
    const client = await openClient();
    await client.armFailpoint(failpointNames.shardSubmitBeforeAppend, { action: 'throw' });
    expect(await errorCodeOf(client.submit([account('a')]))).toBe('FAILPOINT');
    expect((await client.submit([account('a')])).map((result) => result.status)).toEqual(['ok']);
    expect(client.generation).toBe(0);
  });

  it('refuses more waiting commands than queueDepthMax with QUEUE_FULL, and oversized batches', async () => {
    const client = await openClient({ queueDepthMax: limits.batchSizeMax });
    const batch = Array.from({ length: limits.batchSizeMax }, (_, index) =>
      transfer(`q-${index}`, 'nobody', 'none', 1n),
    );
    const first = client.submit(batch);
    expect(await errorCodeOf(client.submit([account('late')]))).toBe('QUEUE_FULL');
    expect((await first).every((result) => result.status === 'account_not_found')).toBe(true);
    expect((await client.submit([account('late')]))[0]?.status).toBe('ok');
    expect(await errorCodeOf(client.submit([...batch, account('one-too-many')]))).toBe(
      'BATCH_TOO_LARGE',
    );
  });

  it('finishes queued calls on close and refuses later ones with LEDGER_CLOSED', async () => {
    const client = await openClient();
    const pending = client.submit([account('a')]);
    await client.close();
    expect((await pending)[0]?.status).toBe('ok');
    expect(await errorCodeOf(client.submit([account('b')]))).toBe('LEDGER_CLOSED');
    expect(await errorCodeOf(client.info())).toBe('LEDGER_CLOSED');

    const reopened = await openClient();
    expect((await reopened.lookupAccounts(['a']))[0]?.id).toBe('a');
  });
});
