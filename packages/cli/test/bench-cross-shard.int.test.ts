// Goal: `shardledger bench cross-shard` runs as the docs' command writes it, with no --shards: it
// takes two shards, the fewest a transfer can cross (the ledger's own default is one shard, on
// which the scenario cannot make its workload).
import { describe, expect, it } from 'vitest';
import { benchJson, tempDir } from './cli-helpers.js';

describe('shardledger bench cross-shard', () => {
  it('runs on two shards unless told otherwise, and its transfers cross them', async () => {
    const { dir, cleanup } = await tempDir();
    const { run, result } = await benchJson<{
      scenario: string;
      shards: number;
      crossShardRatio: number;
      transfers: number;
      crossShardTransfers: number;
    }>(dir, [
      'cross-shard',
      '--cross-shard',
      '0.5',
      '--duration',
      '0.5',
      '--warmup',
      '0',
      '--peers',
      'none',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    if (result === undefined) throw new Error('the run wrote no result');
    expect(result.scenario).toBe('cross-shard');
    expect(result.shards).toBe(2);
    expect(result.crossShardRatio).toBe(0.5);
    expect(result.transfers).toBeGreaterThan(0);
    expect(result.crossShardTransfers).toBeGreaterThan(0);
    await cleanup();
  });
});
