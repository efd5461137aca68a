// Goal: verify() on a shard that is being written finds nothing wrong: its copy of the live state
// may hold a batch that is applied but not yet in the log (its commit in flight), and verify must
// replay the log up to that batch, not stop short of it and report a difference.
// Method: real LMDB in a mkdtemp dir; a writer submits one transfer per turn of the event loop,
// without waiting for the commits, while verify() runs again and again.
import { describe, expect, it } from 'vitest';
import { account, transfer, useEngines } from './fixtures/engine-fixtures.js';

const { dirs, openEngine } = useEngines('verify-writes-');

describe('verify() while the shard is written', () => {
  it('reports no violation whatever batch is in flight when it copies the state', async () => {
    const engine = await openEngine(await dirs.make());
    await engine.submit([account('a'), account('b')]);
    let writing = true;
    let written = 0;
    const commits: Promise<unknown>[] = [];
    const writeNext = (): void => {
      if (!writing) return;
      commits.push(engine.submit([transfer(`t-${written}`, 'a', 'b', 1n)]));
      written += 1;
      setImmediate(writeNext);
    };
    writeNext();
    const reports = [];
    for (let round = 0; round < 30; round += 1) reports.push(await engine.verify());
    writing = false;
    await Promise.all(commits);
    expect(written).toBeGreaterThan(30);
    expect(reports.flatMap((report) => report.violations)).toEqual([]);
    // And the writes all landed: a final verify replays every one.
    const last = await engine.verify();
    expect(last.ok).toBe(true);
    expect(last.eventsReplayed).toBe(2 + written);
  });
});
