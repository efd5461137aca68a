// Goal: the engine scenario measures one ShardEngine and its peers in the same rounds, checks the
// money of every engine run (and fails one whose results do not add up), and reports medians and
// per-round ratios. Method: the real ShardEngine, LMDB and SQLite in temp dirs, a small workload
// (500 accounts, calls of 512), rounds of a fraction of a second.
import { tempDir } from '@shardledger/ledger-core/testing';
import { describe, expect, it } from 'vitest';
import {
  createProgress,
  encodeEngineInput,
  generateWorkload,
  parseBenchArgs,
  runBench,
  runEngine,
  scenarioNamed,
  sweepSections,
} from '../src/index.js';

const smallEngine = { ...scenarioNamed('engine'), accounts: 500, batchSize: 512 };

describe('engine scenario', () => {
  it('takes --rounds and --in-flight, and refuses what it cannot run', async () => {
    const parsed = parseBenchArgs(['engine', '--rounds', '2', '--in-flight', '4'], 'bench');
    expect(parsed.options.engineRounds).toBe(2);
    expect(parsed.options.targetConcurrency).toBe(4);
    await expect(runBench({ scenario: smallEngine, shards: 2, progress: false })).rejects.toThrow(
      /one shard/,
    );
    await expect(
      runBench({ scenario: smallEngine, peers: ['postgres'], progress: false }),
    ).rejects.toThrow(/its peers are/);
    await expect(
      runBench({ scenario: smallEngine, openTarget: null, progress: false }),
    ).rejects.toThrow(/storage engine/);
  });

  it('runs the engine and its peers in rotated rounds and reports medians and ratios', async () => {
    const result = await runBench({
      scenario: smallEngine,
      engineRounds: 2,
      durationMs: 300,
      warmupMs: 100,
      durability: 'strict',
      progress: false,
    });
    const summary = result.engine;
    expect(summary).toBeTruthy();
    if (summary === null || summary === undefined) return;
    expect(result).toMatchObject({
      scenario: 'engine',
      subject: 'shard-engine',
      shards: 1,
      durability: 'strict',
      batchSize: 512,
    });
    expect(result.peers.map((peer) => peer.name)).toEqual([
      'lmdb-limit',
      'sqlite',
      'memory-limit',
      'engine kernel (in memory)',
    ]);
    expect(summary.rounds.map((round) => round.order)).toEqual([
      ['shard-engine', 'lmdb-limit', 'sqlite'],
      ['lmdb-limit', 'sqlite', 'shard-engine'],
    ]);
    for (const round of summary.rounds) {
      expect(round.engineTps).toBeGreaterThan(0);
      expect(round.engineOverLmdbLimit).toBeCloseTo(
        round.engineTps / (round.lmdbLimitTps as number),
        9,
      );
      expect(round.engineOverSqlite).toBeCloseTo(round.engineTps / (round.sqliteTps as number), 9);
      expect(round.engineOverLmdbLimit).toBeGreaterThan(0);
      expect(round.engineOverSqlite).toBeGreaterThan(0);
      expect(round.cpuUsPerTransfer).toBeGreaterThan(0);
      expect(round.p99Ms).toBeGreaterThanOrEqual(round.p50Ms);
    }
    // The headline is the median round's run (upper median of two: the faster one).
    expect(result.tps).toBe(Math.max(...summary.rounds.map((round) => round.engineTps)));
    expect(summary.engineTpsMedian).toBe(result.tps);
    // Every transfer was new and plain: all of them took the engine's plain-transfer lane, and
    // the first round's log replayed clean.
    expect(summary.plainLaneShare).toBe(1);
    expect(summary.verifyMs).toBeGreaterThan(0);
    expect(summary.kernelTps).toBeGreaterThan(0);
    expect(summary.memoryLimitTps).toBeGreaterThan(0);
    expect(result.method).toContain('money checked in each, verify() clean after round 1');
    const section = sweepSections(result).join('\n');
    expect(section).toContain('floor 400,000');
    expect(section).toContain('target 1,000,000');
    expect(section).toContain('target 5,000,000');
    expect(section).toContain('engine ÷ lmdb-limit');
  }, 60_000);

  it('fails a run whose ok results do not add up to the balances the engine moved', async () => {
    const { dir: base, cleanup } = await tempDir('bench-engine');
    try {
      const workload = generateWorkload({
        seed: 3,
        accountCount: 100,
        batchSize: 64,
        transferCount: 64 * 8,
      });
      const input = encodeEngineInput(workload, workload.batchCount);
      // The tally reads one amount 1 higher than the engine was sent.
      const amounts = input.amounts.map((batch) => Uint32Array.from(batch));
      (amounts[0] as Uint32Array)[0] = ((amounts[0] as Uint32Array)[0] as number) + 1;
      const spec = {
        base,
        workload,
        durability: 'relaxed',
        warmupMs: 0,
        durationMs: 5_000,
        inFlight: 2,
        progress: createProgress({ enabled: false }),
        label: 'engine',
        verify: false,
      } as const;
      const honest = await runEngine({ ...spec, input });
      expect(honest.checks?.appliedCount).toBe(64 * 8);
      expect(honest.exhausted).toBe(true);
      await expect(runEngine({ ...spec, input: { ...input, amounts } })).rejects.toThrow(
        /balances moved \d+ but applied transfers sum to \d+/,
      );
    } finally {
      await cleanup();
    }
  });
});
