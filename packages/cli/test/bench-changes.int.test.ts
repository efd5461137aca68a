// Goal: `shardledger bench changes` runs the change-feed scenario from the CLI, as the docs'
// command does, with no peers (the feed has none): the stalled consumer's memory and the read
// rate are in its result.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from './cli-helpers.js';

describe('shardledger bench changes', () => {
  it('measures the feed alone and writes its result', async () => {
    const { dir, cleanup } = await tempDir();
    const out = join(dir, 'changes.json');
    const run = await cli(dir, ['bench', 'changes', '--duration', '1', '--quiet', '--json', out]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const result = JSON.parse(await readFile(out, 'utf8')) as {
      scenario: string;
      tps: number;
      transfers: number;
      method: string;
      peers: unknown[];
    };
    expect(result.scenario).toBe('changes');
    expect(result.peers).toEqual([]);
    expect(result.transfers).toBeGreaterThan(10_000);
    expect(result.tps).toBeGreaterThan(0);
    expect(result.method).toMatch(/stalled after one event: heap [+-]\d/);
    await cleanup();
  });
});
