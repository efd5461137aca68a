// Goal: the read-model scenario measures what it says: pairs of runs without and with a ReadModel
// (whose totals must equal the money moved), the lag of every open-loop call, and the report
// states each figure against the target. Method: the real Ledger and ReadModel (worker
// threads, LMDB and SQLite in temp dirs) on 200 accounts, one round of well under a second.
import { describe, expect, it } from 'vitest';
import { parseBenchArgs, runBench, scenarioNamed, sweepSections } from '../src/index.js';

describe('read-model scenario', () => {
  it('is what standard --with-read-model runs, and goes with no other scenario', () => {
    const parsed = parseBenchArgs(['standard', '--with-read-model', '--rounds', '2'], 'bench');
    expect(typeof parsed.options.scenario === 'string' ? parsed.options.scenario : parsed.options.scenario.name).toBe('read-model');
    expect(parsed.options.readModelRounds).toBe(2);
    expect(() => parseBenchArgs(['hot', '--with-read-model'], 'bench')).toThrow(/goes with standard/);
    expect(() => parseBenchArgs(['read-model', '--rounds', '0'], 'bench')).toThrow(/--rounds/);
  });

  it('measures both sides in one run, times every call to projected, and reports the targets', async () => {
    const result = await runBench({
      scenario: { ...scenarioNamed('read-model'), accounts: 200, batchSize: 256 },
      readModelRounds: 1,
      durationMs: 600,
      warmupMs: 200,
      shards: 1,
      durability: 'relaxed',
      offeredTps: 5_000,
      progress: false,
    });
    const summary = result.readModel;
    expect(summary).toBeTruthy();
    if (summary === null || summary === undefined) return;
    expect(result.subject).toBe('shardledger+read-model');
    expect(result.peers.map((peer) => peer.name)).toEqual(['shardledger (read model off)']);
    const [round] = summary.rounds;
    expect(summary.rounds).toHaveLength(1);
    expect(round!.withTps).toBe(result.tps);
    expect(round!.withoutTps).toBe(result.peers[0]!.tps);
    expect(round!.dropPercent).toBeCloseTo((1 - round!.withTps / round!.withoutTps) * 100, 6);
    expect(summary.offeredTps).toBe(5_000);
    expect(summary.peakDerived).toBe(false);
    // 600 ms with a call of 1,024 due every 204.8 ms: two calls, each timed to projected.
    expect(summary.lagCount).toBe(2);
    expect(summary.lagP50Ms).toBeGreaterThan(0);
    expect(summary.lagP50Ms).toBeLessThanOrEqual(summary.lagMaxMs);
    const section = sweepSections(result).join('\n');
    expect(section).toContain('target < 10%');
    expect(section).toContain('target < 1,000 ms');
  }, 60_000);
});
