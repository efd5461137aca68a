// History entries (ShardDatabases.history, one per account per posting): u8 event type code,
// i64 timestamp, u8 width (0: four float64 counters, 1: four u128), the account's counters after
// the posting, then the transfer id.

import { assert } from '../assert.js';
import type { Counters } from '../domain/balance.js';
import type { LedgerEvent } from '../domain/types.js';
import { ValueArena, ValueReader } from './value-arena.js';

export const eventTypeCodes = [
  'AccountCreated',
  'TransferCreated',
  'PendingTransferPosted',
  'PendingTransferVoided',
  'PendingTransferExpired',
  'FundsReserved',
  'ReservationCommitted',
  'ReservationReleased',
  // Account status events post nothing and so have no entries; listed for a total table.
  'AccountFrozen',
  'AccountUnfrozen',
  'AccountClosed',
] as const satisfies readonly LedgerEvent['type'][];

/** Writes a history entry into the arena (then call arena.take()): event type, timestamp, the
 * account's counters after the posting, transfer id. */
export function writeHistoryEntry(
  arena: ValueArena,
  eventType: LedgerEvent['type'],
  transferId: string,
  timestamp: bigint,
  counters: Counters,
): void {
  arena.u8(eventTypeCodes.indexOf(eventType));
  arena.i64(timestamp);
  if (counters.wide === null) {
    arena.u8(0);
    for (let index = 0; index < 4; index += 1)
      arena.f64(counters.values[counters.at + index] as number);
  } else {
    arena.u8(1);
    for (let index = 0; index < 4; index += 1) arena.u128(counters.wide[index] as bigint);
  }
  arena.string(transferId);
}

/** A history entry as a standalone buffer: event type, timestamp, the account's counters after
 * the posting, transfer id. */
export function encodeHistoryEntry(
  eventType: LedgerEvent['type'],
  transferId: string,
  timestamp: bigint,
  counters: Counters,
): Buffer {
  const arena = new ValueArena(128);
  writeHistoryEntry(arena, eventType, transferId, timestamp, counters);
  return arena.takeCopy();
}

export interface DecodedHistoryEntry {
  readonly eventType: LedgerEvent['type'];
  readonly transferId: string;
  readonly timestamp: bigint;
  readonly counters: readonly [bigint, bigint, bigint, bigint];
}

export function decodeHistoryEntry(buffer: Uint8Array): DecodedHistoryEntry {
  const reader = new ValueReader(buffer);
  const eventType = eventTypeCodes[reader.u8()];
  assert(eventType !== undefined, 'history entry type');
  const timestamp = reader.i64();
  const wide = reader.u8() === 1;
  const counter = (): bigint => (wide ? reader.u128() : BigInt(reader.f64()));
  const counters: [bigint, bigint, bigint, bigint] = [counter(), counter(), counter(), counter()];
  return { eventType, timestamp, counters, transferId: reader.string() };
}
