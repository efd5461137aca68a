// Goal: the bench's Shardledger target checks every transfer it sends: after a short real run,
// the ok count and amounts equal the balance movement and verify() is clean; the conservation
// check itself throws on a lost or invented amount. Method: the real Ledger (worker threads,
// LMDB in a temp dir) on 200 accounts for about a second, through runBench.
import { describe, expect, it } from 'vitest';
import { runBench } from '../src/index.js';
import { assertConserved } from '../src/peers/peer.js';

describe('shardledger target', () => {
  it('conserves money on a tiny workload and reports against a peer in the same run', async () => {
    const result = await runBench({
      scenario: {
        name: 'tiny',
        kind: 'throughput',
        description: '200 accounts',
        parameters: [],
        accounts: 200,
        batchSize: 256,
        pairs: 'uniform',
        crossShardRatio: 0,
        ids: 'uuidv4',
        hotExponent: null,
      },
      durationMs: 1000,
      warmupMs: 200,
      shards: 2,
      durability: 'strict',
      peers: ['memory-limit'],
      progress: false,
    });
    expect(result.subject).toBe('shardledger');
    expect(result.transfers).toBeGreaterThan(0);
    expect(result.method).toContain('verify() clean');
    expect(result.peers[0]).toMatchObject({ name: 'memory-limit' });
    expect(result.peers[0]!.ratio).toBeCloseTo(result.tps / result.peers[0]!.tps!, 6);
  }, 30_000);

  it('fails loudly when balances moved more or less than the ok transfers', () => {
    expect(() =>
      assertConserved('t', { appliedCount: 2, debitsTotal: 30n, creditsTotal: 30n }, 30n),
    ).not.toThrow();
    expect(() =>
      assertConserved('t', { appliedCount: 2, debitsTotal: 31n, creditsTotal: 31n }, 30n),
    ).toThrow(/balances moved 31/);
    expect(() =>
      assertConserved('t', { appliedCount: 2, debitsTotal: 30n, creditsTotal: 29n }, 30n),
    ).toThrow(/money not conserved/);
  });
});
