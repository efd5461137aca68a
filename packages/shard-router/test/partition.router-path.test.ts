// Goal: the router's fast paths (printable-ASCII hash, AccountShardMemo) give exactly the answers
// of the reference path (isValidId, then PartitionMap.shardOf), memo hit or miss, full or not.
import { describe, expect, it } from 'vitest';
import { limits } from '@shardledger/ledger-core';
import { isValidId } from '@shardledger/ledger-core/internals';
import {
  AccountShardMemo,
  PartitionMap,
  accountShardMemoSizeMax,
  hashAccountId,
  printableAsciiIdHash,
} from '../src/partition.js';

function referenceFnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) hash = Math.imul(hash ^ byte, 0x01000193);
  return hash >>> 0;
}

/** Ids of every kind: plain ASCII, each boundary character, non-ASCII, invalid, and non-strings. */
function sampleIds(): unknown[] {
  const ids: unknown[] = [
    'a',
    'acct-000042',
    'x'.repeat(limits.idSizeBytesMax),
    'x'.repeat(limits.idSizeBytesMax + 1),
  ];
  for (let code = 0; code < 0x300; code++)
    ids.push(`id-${String.fromCharCode(code)}`, String.fromCharCode(code));
  ids.push(
    '€'.repeat(42) + 'xx',
    '€'.repeat(43),
    '😀'.repeat(32),
    '😀'.repeat(33),
    'z\ud83d',
    '\udc00',
    'ok\u2028',
  );
  ids.push('', 1, 1n, null, undefined, {}, ['a'], true);
  return ids;
}

function referenceShard(partitions: PartitionMap, id: unknown): number {
  return isValidId(id) ? partitions.shardOf(id) : -1;
}

describe('printableAsciiIdHash', () => {
  it('hashes exactly like hashAccountId the valid printable-ASCII ids, and returns -1 for all others', () => {
    for (const id of sampleIds()) {
      const hash = printableAsciiIdHash(id);
      const printable =
        typeof id === 'string' && /^[\x20-\x7e]+$/.test(id) && id.length <= limits.idSizeBytesMax;
      expect(hash).toBe(printable ? hashAccountId(id as string) : -1);
      if (printable) expect(hash).toBe(referenceFnv1a(id as string));
    }
  });
});

describe('hashAccountId', () => {
  it('hashes ids that turn non-ASCII after an ASCII prefix like TextEncoder bytes', () => {
    for (const id of ['abc€', 'abcé', 'abc😀', 'abc\ud800', 'abc\udfff-x', 'acct-0001-ü-z'])
      expect(hashAccountId(id)).toBe(referenceFnv1a(id));
  });
});

describe('AccountShardMemo', () => {
  it('answers like isValidId + shardOf for every kind of id, on a miss and then on a hit', () => {
    for (const shards of [1, 2, 3, 7]) {
      const partitions = PartitionMap.even({ shards });
      const memo = new AccountShardMemo({ partitions });
      for (let pass = 0; pass < 2; pass++) {
        for (const id of sampleIds())
          expect(memo.shardOfValid(id)).toBe(referenceShard(partitions, id));
      }
    }
  });

  it('remembers valid ids only, and only those that are not printable ASCII', () => {
    const memo = new AccountShardMemo({ partitions: PartitionMap.even({ shards: 2 }) });
    for (const id of ['', 'a\nb', 1, null, 'x'.repeat(200), 'é'.repeat(200)])
      expect(memo.shardOfValid(id)).toBe(-1);
    expect(memo.size).toBe(0);
    // Printable ASCII ids are hashed on the spot, every time: nothing is remembered.
    for (const id of ['alice', 'acct-000001', 'x'.repeat(limits.idSizeBytesMax)]) {
      expect(memo.shardOfValid(id)).toBe(memo.shardOfValid(id));
      expect(memo.size).toBe(0);
    }
    memo.shardOfValid('bob-€');
    memo.shardOfValid('zoë');
    memo.shardOfValid('bob-€');
    expect(memo.size).toBe(2);
  });

  it('stays within its bound: starts over when full, and keeps answering correctly', () => {
    const partitions = PartitionMap.even({ shards: 4 });
    const memo = new AccountShardMemo({ partitions, sizeMax: 10 });
    let sizeMax = 0;
    for (let round = 0; round < 3; round++) {
      // Each id asked twice in a row: half the lookups hit, so the memo pays and keeps filling.
      for (let index = 0; index < 50; index++) {
        const id = `acct-é-${index >> 1}`;
        expect(memo.shardOfValid(id)).toBe(partitions.shardOf(id));
        sizeMax = Math.max(sizeMax, memo.size);
      }
    }
    expect(memo.asked).toBe(true);
    expect(sizeMax).toBe(10);
    expect(accountShardMemoSizeMax).toBeGreaterThanOrEqual(limits.batchSizeMax);
  });

  it('stops asking itself while the ids in use are many more than it holds, and asks again once they are few', () => {
    const partitions = PartitionMap.even({ shards: 3 });
    const memo = new AccountShardMemo({ partitions, sizeMax: 64 });
    const check = (id: string): void => {
      expect(memo.shardOfValid(id)).toBe(partitions.shardOf(id));
    };
    // Few ids, asked again and again: it pays.
    for (let round = 0; round < 20; round++)
      for (let index = 0; index < 32; index++) check(`a-é-${index}`);
    expect(memo.asked).toBe(true);
    // Ten thousand ids, each once: almost every lookup misses, so it stops being asked.
    for (let index = 0; index < 10_000; index++) check(`b-é-${index}`);
    expect(memo.asked).toBe(false);
    expect(memo.size).toBeLessThanOrEqual(64);
    // Back to few ids: the sampled lookups find them, and it is asked for every id again.
    for (let round = 0; round < 200; round++)
      for (let index = 0; index < 8; index++) check(`c-é-${index}`);
    expect(memo.asked).toBe(true);
  });

  it('refuses a bound below one id', () => {
    expect(
      () => new AccountShardMemo({ partitions: PartitionMap.even({ shards: 2 }), sizeMax: 0 }),
    ).toThrow();
  });
});
