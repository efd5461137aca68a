// Goal: the account hash and partition routing never change; checked against pinned FNV-1a values, a TextEncoder reference and a 100k-id spread.
import { describe, expect, it } from 'vitest';
import { isLedgerError, limits } from '@shardledger/ledger-core';
import {
  PartitionMap,
  defaultPartitionMap,
  hashAccountId,
  partitionMapProblem,
  partitionOf,
} from '../src/partition.js';

function referenceFnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) hash = Math.imul(hash ^ byte, 0x01000193);
  return hash >>> 0;
}

describe('hashAccountId', () => {
  it('matches the published FNV-1a 32-bit test vectors', () => {
    expect(hashAccountId('')).toBe(0x811c9dc5);
    expect(hashAccountId('a')).toBe(0xe40c292c);
    expect(hashAccountId('foobar')).toBe(0xbf9cf968);
  });

  it('keeps the pinned hashes of ASCII and non-ASCII ids forever', () => {
    expect(hashAccountId('alice')).toBe(0x872213e7);
    expect(hashAccountId('bank')).toBe(0x3b952e97);
    expect(hashAccountId('acct-00042')).toBe(0x837e06a1);
    expect(hashAccountId('héllo')).toBe(0x4aa48540);
    expect(hashAccountId('💶€')).toBe(0x4fe91730);
  });

  it('hashes the UTF-8 bytes that TextEncoder produces, lone surrogates included', () => {
    const samples = [
      'x',
      'ü',
      'ßẞ',
      '日本語',
      '😀🏦',
      '\ud800',
      'a\udc00b',
      '\udbff\udfff',
      'z\ud83d',
    ];
    for (let code = 0; code < 0x3000; code += 7)
      samples.push(`id-${String.fromCharCode(code)}-${code}`);
    for (const sample of samples) expect(hashAccountId(sample)).toBe(referenceFnv1a(sample));
  });
});

describe('partitionOf', () => {
  it('keeps the pinned partitions of a few ids', () => {
    expect(partitionOf('alice', limits.partitionCount)).toBe(1221);
    expect(partitionOf('bank', limits.partitionCount)).toBe(1282);
    expect(partitionOf('acct-00042', limits.partitionCount)).toBe(1503);
  });

  it('spreads 100k sequential ids evenly over partitions and over shards', () => {
    const partitionCounts = new Uint32Array(limits.partitionCount);
    for (let index = 0; index < 100_000; index++) {
      const partition = partitionOf(`acct-${index}`, limits.partitionCount);
      partitionCounts[partition] = (partitionCounts[partition] ?? 0) + 1;
    }
    const expected = 100_000 / limits.partitionCount;
    let chiSquare = 0;
    for (const count of partitionCounts) chiSquare += (count - expected) ** 2 / expected;
    // A uniform hash gives about 1.0 per degree of freedom; 1.1 is > 4 standard deviations away.
    expect(chiSquare / (limits.partitionCount - 1)).toBeLessThan(1.1);

    for (const shards of [2, 3, 4, 7, 16]) {
      const map = PartitionMap.even({ shards });
      const perShard = new Uint32Array(shards);
      for (let index = 0; index < 100_000; index++) {
        const shard = map.shardOf(`user-${index}`);
        perShard[shard] = (perShard[shard] ?? 0) + 1;
      }
      for (const count of perShard)
        expect(Math.abs(count - 100_000 / shards) / (100_000 / shards)).toBeLessThan(0.03);
    }
  });
});

describe('PartitionMap', () => {
  it('spreads partitions round-robin so every shard owns partitionCount / shards of them', () => {
    const map = defaultPartitionMap({ shards: 3, partitionCount: 4096 });
    expect(map.slice(0, 4)).toEqual([0, 1, 2, 0]);
    expect(map.filter((shard) => shard === 0)).toHaveLength(1366);
    expect(map.filter((shard) => shard === 2)).toHaveLength(1365);
  });

  it('routes an account through its partition to the owning shard', () => {
    const map = PartitionMap.even({ shards: 4 });
    expect(map.partitionOf('alice')).toBe(1221);
    expect(map.shardOf('alice')).toBe(1221 % 4);
    expect(map.shardOfPartition(1221)).toBe(1);
    expect(map.toArray()).toEqual(
      defaultPartitionMap({ shards: 4, partitionCount: limits.partitionCount }),
    );
  });

  it('refuses maps with out-of-range shards or a shard without partitions', () => {
    expect(partitionMapProblem([0, 1, 2], 2)).toMatch(/invalid shard/);
    expect(partitionMapProblem([0, 0, 0], 2)).toMatch(/shard 1 owns no partition/);
    expect(partitionMapProblem([0, 1.5], 2)).toMatch(/invalid shard/);
    expect(() => new PartitionMap({ shards: 2, partitionMap: [0, 0] })).toThrowError(
      /INVALID_ARGUMENT/,
    );
    let caught: unknown;
    try {
      PartitionMap.even({ shards: limits.shardCountMax + 1 });
    } catch (error) {
      caught = error;
    }
    expect(isLedgerError(caught, 'INVALID_ARGUMENT')).toBe(true);
  });
});
