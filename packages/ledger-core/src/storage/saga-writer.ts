// Saga events and commands written as their tuples' msgpack (saga-codec.ts) by MsgpackWriter
// instead of msgpackr, byte for byte as msgpackr packs them (msgpack-writer.ts says why). Each
// writer first bounds the size of its items and declines (returns null) any item outside
// MsgpackWriter's subset; the caller then packs the tuples with msgpackr.

import { assert } from '../assert.js';
import { SAFE_BIG } from '../limits.js';
import type { ReservationLeg } from '../domain/types.js';
import { MsgpackWriter } from './msgpack-writer.js';
import {
  COMMIT,
  hasHoldFields,
  RELEASE,
  RESERVE,
  type SagaCommand,
  type SagaEvent,
} from './saga-codec.js';

/** Bytes per event or command besides its strings, participants and legs, an upper bound for
 * MsgpackWriter: the [position, tuple] pair and the tuple's headers and numbers. */
const TUPLE_BYTES_MAX = 4 * MsgpackWriter.headerBytesMax + 3 * MsgpackWriter.numberBytesMax + 10;
/** The same per leg (1 header, 4 numbers, 4 strings' headers, a null). */
const LEG_BYTES_MAX = MsgpackWriter.headerBytesMax + 4 * MsgpackWriter.numberBytesMax + 20 + 1;

/** A string's length; NaN for anything else (the size is then not a safe integer and the
 * writers below decline). */
function stringLength(value: string): number {
  return typeof value === 'string' ? value.length : Number.NaN;
}

/** writeLegs' size bound; NaN when a leg is outside MsgpackWriter's subset (metadata, an amount
 * above 2^53-1). */
function legsBytesMax(legs: readonly ReservationLeg[]): number {
  let size = MsgpackWriter.headerBytesMax;
  for (const { transfer } of legs) {
    if (
      transfer.metadata !== null ||
      typeof transfer.amount !== 'bigint' ||
      transfer.amount > SAFE_BIG ||
      typeof transfer.timeoutMs !== 'number'
    )
      return Number.NaN;
    size +=
      LEG_BYTES_MAX +
      stringLength(transfer.id) +
      stringLength(transfer.debitAccountId) +
      stringLength(transfer.creditAccountId) +
      stringLength(transfer.currency);
  }
  return size;
}

/** legsToTuples' tuples, written; false at a non-ASCII string. */
function writeLegs(writer: MsgpackWriter, legs: readonly ReservationLeg[]): boolean {
  writer.arrayHeader(legs.length);
  for (let index = 0; index < legs.length; index += 1) {
    const { side, transfer } = legs[index] as ReservationLeg;
    writer.arrayHeader(9);
    writer.number(side === 'debit' ? 0 : 1);
    if (
      !writer.ascii(transfer.id) ||
      !writer.ascii(transfer.debitAccountId) ||
      !writer.ascii(transfer.creditAccountId)
    )
      return false;
    writer.number(Number(transfer.amount));
    if (!writer.ascii(transfer.currency)) return false;
    writer.number(transfer.pending ? 1 : 0);
    writer.number(transfer.timeoutMs);
    writer.nil();
  }
  return true;
}

function participantsBytesMax(participants: readonly number[]): number {
  for (const participant of participants) if (typeof participant !== 'number') return Number.NaN;
  return MsgpackWriter.headerBytesMax + MsgpackWriter.numberBytesMax * participants.length;
}

function writeParticipants(writer: MsgpackWriter, participants: readonly number[]): void {
  writer.arrayHeader(participants.length);
  for (let index = 0; index < participants.length; index += 1)
    writer.number(participants[index] as number);
}

/** A writer for `head` plus `size` bytes, with `head` written; null when `size` is NaN (an item
 * outside MsgpackWriter's subset). */
function writerAfter(head: Uint8Array, size: number): MsgpackWriter | null {
  if (!Number.isSafeInteger(size)) return null;
  const writer = new MsgpackWriter(head.length + size);
  writer.raw(head);
  return writer;
}

/**
 * The msgpack of `[[positions[0], sagaEventToTuple(events[0], base)], ...]`, byte for byte as
 * msgpackr packs it, appended to `head` (bytes msgpackr packed, copied); without the tuples and
 * without msgpackr (see msgpack-writer.ts for why). Returns null when an event is outside
 * MsgpackWriter's subset (metadata, an amount above 2^53-1, a non-ASCII string): the caller then
 * packs the tuples with msgpackr.
 */
export function writeSagaEvents(
  head: Uint8Array,
  positions: readonly number[],
  events: readonly SagaEvent[],
  base: bigint,
): Buffer | null {
  assert(positions.length === events.length, 'one position per saga event');
  let size = MsgpackWriter.headerBytesMax;
  for (const event of events) {
    if (hasHoldFields(event)) return null;
    size += TUPLE_BYTES_MAX + stringLength(event.sagaId) + legsBytesMax(event.legs);
    if (event.type === 'FundsReserved') size += participantsBytesMax(event.participants);
    if (event.type === 'ReservationReleased') size += stringLength(event.reason);
  }
  const writer = writerAfter(head, size);
  if (writer === null) return null;
  writer.arrayHeader(events.length);
  for (let index = 0; index < events.length; index += 1) {
    const event = events[index] as SagaEvent;
    const offset = event.timestamp - base;
    assert(
      offset >= 0n && offset <= SAFE_BIG,
      'saga event timestamp within a safe offset of the record base',
    );
    writer.arrayHeader(2);
    writer.number(positions[index] as number);
    writer.arrayHeader(event.type === 'ReservationCommitted' ? 4 : 5);
    writer.number(
      event.type === 'FundsReserved'
        ? RESERVE
        : event.type === 'ReservationCommitted'
          ? COMMIT
          : RELEASE,
    );
    writer.number(Number(offset));
    if (!writer.ascii(event.sagaId)) return null;
    if (event.type === 'FundsReserved') writeParticipants(writer, event.participants);
    if (!writeLegs(writer, event.legs)) return null;
    if (event.type === 'ReservationReleased' && !writer.ascii(event.reason)) return null;
  }
  return writer.finish();
}

/** writeSagaEvents for commands: `[[positions[0], sagaCommandToTuple(commands[0])], ...]`. */
export function writeSagaCommands(
  head: Uint8Array,
  positions: readonly number[],
  commands: readonly SagaCommand[],
): Buffer | null {
  assert(positions.length === commands.length, 'one position per saga command');
  let size = MsgpackWriter.headerBytesMax;
  for (const command of commands) {
    if (hasHoldFields(command)) return null;
    size += TUPLE_BYTES_MAX + stringLength(command.sagaId);
    if (command.type === 'ReserveFunds')
      size += participantsBytesMax(command.participants) + legsBytesMax(command.legs);
    if (command.type === 'ReleaseReservation') size += stringLength(command.reason);
  }
  const writer = writerAfter(head, size);
  if (writer === null) return null;
  writer.arrayHeader(commands.length);
  for (let index = 0; index < commands.length; index += 1) {
    const command = commands[index] as SagaCommand;
    writer.arrayHeader(2);
    writer.number(positions[index] as number);
    if (command.type === 'ReserveFunds') {
      writer.arrayHeader(4);
      writer.number(RESERVE);
      if (!writer.ascii(command.sagaId)) return null;
      writeParticipants(writer, command.participants);
      if (!writeLegs(writer, command.legs)) return null;
    } else if (command.type === 'CommitReservation') {
      writer.arrayHeader(2);
      writer.number(COMMIT);
      if (!writer.ascii(command.sagaId)) return null;
    } else {
      writer.arrayHeader(3);
      writer.number(RELEASE);
      if (!writer.ascii(command.sagaId) || !writer.ascii(command.reason)) return null;
    }
  }
  return writer.finish();
}
