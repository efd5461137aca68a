// Goal: `shardledger bench changes` runs the change-feed scenario from the CLI, as the docs'
// command does, with no peers (the feed has none): the stalled consumer's memory and the read
// rate are in its result.
import { describe, expect, it } from 'vitest';
import { benchJson, tempDir } from './cli-helpers.js';

describe('shardledger bench changes', () => {
  it('measures the feed alone and writes its result', async () => {
    const { dir, cleanup } = await tempDir();
    const { run, result } = await benchJson<{
      scenario: string;
      tps: number;
      transfers: number;
      method: string;
      peers: unknown[];
    }>(dir, ['changes', '--duration', '1']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    if (result === undefined) throw new Error('the run wrote no result');
    expect(result.scenario).toBe('changes');
    expect(result.peers).toEqual([]);
    expect(result.transfers).toBeGreaterThan(10_000);
    expect(result.tps).toBeGreaterThan(0);
    expect(result.method).toMatch(/stalled after one event: heap [+-]\d/);
    await cleanup();
  });
});
