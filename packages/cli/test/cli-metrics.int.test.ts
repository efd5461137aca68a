// `shardledger info` prints the figures Ledger.metrics() gives the OpenTelemetry instruments: a
// data dir filled through the library (a snapshot, then more writes), then `info` and
// `info --json` as child processes (dist/main.js), checked against the shards' own info.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger } from '@shardledger/shard-router';
import { cli, json, tempDir } from './cli-helpers.js';

interface InfoJson {
  shardInfo: { lastSequence: number; logSizeBytes: number; snapshots: { sequence: number }[] }[];
  metrics: {
    transfers: { ok: number; exists: number; rejected: number };
    shards: {
      shard: number;
      queueDepth: number;
      sagasOpen: number;
      eventsSinceSnapshot: number;
      snapshotAgeSeconds: number | null;
      mapUsedBytes: number;
      mapSizeBytes: number;
      restarts: number;
    }[];
  };
}

describe('shardledger info and metrics', () => {
  let cwd = '';
  let cleanup = async (): Promise<void> => undefined;
  const run = (...args: string[]) => cli(cwd, args);

  beforeAll(async () => {
    ({ dir: cwd, cleanup } = await tempDir());
    await mkdir(join(cwd, 'shardledger-data'));
    const ledger = await Ledger.open({ dir: join(cwd, 'shardledger-data'), shards: 2 });
    try {
      const ids = Array.from({ length: 8 }, (_, index) => `acct-${index}`);
      await ledger.createAccounts(ids.map((id) => ({ id, currency: 'USD' })));
      const transfer = (index: number) => ({
        id: `t-${index}`,
        debitAccountId: ids[index % 8] as string,
        creditAccountId: ids[(index + 3) % 8] as string,
        amount: 1n,
        currency: 'USD',
      });
      await ledger.createTransfers(Array.from({ length: 6 }, (_, index) => transfer(index)));
      await ledger.snapshot();
      await ledger.createTransfers(Array.from({ length: 6 }, (_, index) => transfer(index + 6)));
    } finally {
      await ledger.close();
    }
  });
  afterAll(() => cleanup());

  it('info --json carries the metrics snapshot, consistent with each shard info', async () => {
    const result = await run('info', '--json');
    expect(result.code, result.stderr).toBe(0);
    const info = json<InfoJson>(result);
    expect(info.metrics.shards.map((shard) => shard.shard)).toEqual([0, 1]);
    // A fresh process: nothing written by it yet.
    expect(info.metrics.transfers).toEqual({ ok: 0, exists: 0, rejected: 0 });
    let eventsSince = 0;
    info.metrics.shards.forEach((shard, index) => {
      const shardInfo = info.shardInfo[index];
      expect(shardInfo).toBeDefined();
      const newest = Math.max(...(shardInfo?.snapshots ?? []).map((taken) => taken.sequence));
      expect(newest).toBeGreaterThan(0);
      expect(shard.eventsSinceSnapshot).toBe((shardInfo?.lastSequence ?? 0) - newest);
      eventsSince += shard.eventsSinceSnapshot;
      expect(shard.snapshotAgeSeconds).toBeGreaterThanOrEqual(0);
      expect(shard.snapshotAgeSeconds).toBeLessThan(60);
      expect(shard.mapUsedBytes).toBe(shardInfo?.logSizeBytes);
      expect(shard.mapSizeBytes).toBe(64 * 1024 ** 3);
      expect(shard.queueDepth).toBe(0);
      expect(shard.sagasOpen).toBe(0);
      expect(shard.restarts).toBe(0);
    });
    // The six transfers after the snapshot, each on the shard of its accounts (a cross-shard
    // one is recorded on both).
    expect(eventsSince).toBeGreaterThanOrEqual(6);
  });

  it('info prints the same figures as a table', async () => {
    const result = await run('info');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/snapshot age/);
    expect(result.stdout).toMatch(/map size/);
    expect(result.stdout).toMatch(/64\.0 GiB/);
    expect(result.stdout).toMatch(/\d+ s/);
  });
});
