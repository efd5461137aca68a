// The change feed's cursor: per shard, the sequence of the last event handed out. As a string,
// `0:120,1:98,2:0` (shard:sequence, every shard in order), so that a consumer stores it as text
// next to its own data and resumes from it.

import { LedgerError } from '@shardledger/ledger-core';

function refuse(problem: string): never {
  throw new LedgerError('INVALID_ARGUMENT', { field: 'after', problem });
}

/** The string form of per-shard sequences. */
export function formatChangeCursor(sequences: readonly number[]): string {
  return sequences.map((sequence, shard) => `${shard}:${sequence}`).join(',');
}

/** Per-shard sequences from a cursor string of a ledger with `shards` shards; absent, null or
 * '' is the start of every shard. Anything else malformed is refused with INVALID_ARGUMENT. */
export function parseChangeCursor(cursor: unknown, shards: number): number[] {
  if (cursor === undefined || cursor === null || cursor === '') return new Array(shards).fill(0);
  if (typeof cursor !== 'string') refuse('a cursor string (a feed cursor) or null');
  const parts = cursor.split(',');
  if (parts.length !== shards) refuse(`a cursor of ${shards} shards, not ${parts.length}`);
  return parts.map((part, shard) => {
    const match = /^(\d+):(\d+)$/.exec(part);
    if (match === null || Number(match[1]) !== shard)
      refuse(`shard ${shard} as "${shard}:sequence"`);
    const sequence = Number(match[2]);
    if (!Number.isSafeInteger(sequence)) refuse(`a sequence for shard ${shard}`);
    return sequence;
  });
}
