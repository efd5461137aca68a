// A transfer record as the id index stores it (ShardDatabases.transfers, and each entry of a plain
// run): u8 head (kind in bits 0-1, state in bits 2-4, pending in bit 7), u8 flags (which optional
// fields follow), i64 timestamp, f64 timeoutMs, u128 amount, the three strings debit account,
// credit account and currency, then those optional fields that the flags name, in this order:
// pending id, posted amount, saga id, metadata (as JSON), resolved by. ValueArena.plainEntry
// writes the same bytes for a plain transfer without a record object.

import { assert } from '../assert.js';
import type { Metadata, TransferRecord } from '../domain/types.js';
import { ValueReader, type ValueArena } from './value-arena.js';

const kinds = ['transfer', 'post', 'void'] as const;
const states = ['posted', 'pending', 'voided', 'expired', 'reserved', 'released'] as const;
const HAS_METADATA = 1;
const HAS_PENDING_ID = 2;
const HAS_POSTED_AMOUNT = 4;
const HAS_SAGA_ID = 8;
const HAS_RESOLVED_BY = 16;

/** Writes a transfer record into the arena (then call arena.take()). */
export function writeTransferRecord(arena: ValueArena, record: TransferRecord): void {
  let flags = 0;
  if (record.metadata !== null) flags |= HAS_METADATA;
  if (record.pendingId !== null) flags |= HAS_PENDING_ID;
  if (record.postedAmount !== null) flags |= HAS_POSTED_AMOUNT;
  if (record.sagaId !== null) flags |= HAS_SAGA_ID;
  if (record.resolvedBy !== undefined) flags |= HAS_RESOLVED_BY;
  arena.u8(
    kinds.indexOf(record.kind) | (states.indexOf(record.state) << 2) | (record.pending ? 0x80 : 0),
  );
  arena.u8(flags);
  arena.i64(record.timestamp);
  arena.f64(record.timeoutMs);
  arena.u128(record.amount);
  arena.string(record.debitAccountId);
  arena.string(record.creditAccountId);
  arena.string(record.currency);
  if (record.pendingId !== null) arena.string(record.pendingId);
  if (record.postedAmount !== null) arena.u128(record.postedAmount);
  if (record.sagaId !== null) arena.string(record.sagaId);
  if (record.metadata !== null) arena.string(JSON.stringify(record.metadata));
  if (record.resolvedBy !== undefined) arena.string(record.resolvedBy);
}

export function decodeTransferRecord(id: string, buffer: Uint8Array): TransferRecord {
  const reader = new ValueReader(buffer);
  const head = reader.u8();
  const flags = reader.u8();
  const timestamp = reader.i64();
  const timeoutMs = reader.f64();
  const amount = reader.u128();
  const debitAccountId = reader.string();
  const creditAccountId = reader.string();
  const currency = reader.string();
  const pendingId = (flags & HAS_PENDING_ID) !== 0 ? reader.string() : null;
  const postedAmount = (flags & HAS_POSTED_AMOUNT) !== 0 ? reader.u128() : null;
  const sagaId = (flags & HAS_SAGA_ID) !== 0 ? reader.string() : null;
  const metadata =
    (flags & HAS_METADATA) !== 0 ? (Object.freeze(JSON.parse(reader.string())) as Metadata) : null;
  const resolvedBy = (flags & HAS_RESOLVED_BY) !== 0 ? { resolvedBy: reader.string() } : {};
  const kind = kinds[head & 3];
  const state = states[(head >> 2) & 7];
  assert(kind !== undefined && state !== undefined, 'transfer record header');
  return {
    id,
    kind,
    debitAccountId,
    creditAccountId,
    amount,
    currency,
    pending: (head & 0x80) !== 0,
    timeoutMs,
    metadata,
    timestamp,
    pendingId,
    state,
    postedAmount,
    sagaId,
    ...resolvedBy,
  };
}
