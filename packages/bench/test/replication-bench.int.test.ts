// `bench standard --durability replicated` end to end, on a short window: strict and replicated
// runs against a real 3-node nats-server cluster the bench starts, then the catch-up of a fresh
// dir from the streams, whose balances and verify() the bench checks.
import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../src/index.js';
import { runReplicationBench } from '../src/replication-run.js';

describe('bench standard --durability replicated', () => {
  it('parses replicated as strict and replicated side by side', () => {
    const parsed = parseBenchArgs(['standard', '--durability', 'replicated'], 'bench');
    expect(parsed.replicated).toBe(true);
    expect(parsed.options.durability).toBe('strict');
    expect(parseBenchArgs(['standard'], 'bench').replicated).toBe(false);
    expect(() => parseBenchArgs(['standard', '--durability', 'quorum'], 'bench')).toThrow(
      /strict, relaxed or replicated/,
    );
  });

  it('refuses a scenario other than standard before starting a cluster', async () => {
    await expect(runReplicationBench({ scenario: 'hot', progress: false })).rejects.toThrow(
      /goes with standard, not hot/,
    );
  });

  it('measures both runs and catches a fresh dir up with the same balances', async () => {
    const result = await runReplicationBench({
      scenario: 'standard',
      durationMs: 800,
      warmupMs: 200,
      progress: false,
      command: 'test',
    });
    expect(result.strict.subject).toBe('strict');
    expect(result.replicated.subject).toBe('replicated');
    expect(result.replicated.transfers).toBeGreaterThan(0);
    expect(result.ratio).toBeCloseTo(result.replicated.tps / result.strict.tps, 9);
    // Every account and every transfer acknowledged (warm-up included) was restored.
    expect(result.catchUp.accountsCompared).toBe(10_000);
    expect(result.catchUp.events).toBeGreaterThanOrEqual(10_000 + result.replicated.transfers);
    expect(result.catchUp.eventsPerSecond).toBeGreaterThan(0);
  }, 60_000);
});
