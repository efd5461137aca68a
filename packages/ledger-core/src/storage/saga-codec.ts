// Saga commands and events as positional tuples for msgpackr. Packed as objects they cost ~2-4 µs
// each here (every key is written as a string, nested twice: event -> legs -> transfer); as
// arrays of primitives ~0.7-1.1 µs to pack and ~0.35 µs to unpack, and 88 bytes instead of 258
// for a one-leg reservation (msgpackr pack/unpack loops over 819 reservations, loaded machine).
// A tuple's first element is its type code; amounts travel as numbers below 2^53, else bigints.

import { assert } from '../assert.js';
import { LedgerError } from '../errors.js';
import { MsgpackWriter } from './msgpack-writer.js';
import { bufferView, searchAscending } from './sorted-ids.js';
import type {
  Command,
  FundsReserved,
  LedgerEvent,
  Metadata,
  PendingResolutionSpec,
  ReservationCommitted,
  ReservationLeg,
  ReservationReleased,
  SagaOutcome,
} from '../domain/types.js';

const SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);

const RESERVE = 5;
const COMMIT = 6;
const RELEASE = 7;

/** [side (0 debit, 1 credit), id, debit, credit, amount, currency, pending (0|1), timeoutMs, metadata] */
type LegTuple = [
  number,
  string,
  string,
  string,
  number | bigint,
  string,
  number,
  number,
  Metadata | null,
];

export type SagaEvent = FundsReserved | ReservationCommitted | ReservationReleased;
export type SagaCommand = Extract<
  Command,
  { type: 'ReserveFunds' | 'CommitReservation' | 'ReleaseReservation' }
>;

/** A cross-shard hold's post or void as a saga event carries it: [id, metadata]. */
type HoldResolutionTuple = [string, Metadata | null];
/** ... and as a command carries it: [id, pendingId, amount or null, metadata]. */
type ResolutionTuple = [string, string, number | bigint | null, Metadata | null];

/** Event tuples: timestamps as a safe-integer offset (ns) from the record's base. A commit or
 * release of a cross-shard hold has trailing fields (the amount posted, null for all; the post
 * or void); other sagas' tuples end before them, as they always did. */
export type SagaEventTuple =
  | [typeof RESERVE, number, string, readonly number[], LegTuple[]]
  | [typeof COMMIT, number, string, LegTuple[]]
  | [typeof COMMIT, number, string, LegTuple[], number | bigint | null, HoldResolutionTuple | null]
  | [typeof RELEASE, number, string, LegTuple[], string]
  | [typeof RELEASE, number, string, LegTuple[], string, HoldResolutionTuple];

export type SagaCommandTuple =
  | [typeof RESERVE, string, readonly number[], LegTuple[]]
  | [typeof COMMIT, string]
  | [typeof COMMIT, string, number | bigint | null, ResolutionTuple | null]
  | [typeof RELEASE, string, string]
  | [typeof RELEASE, string, string, ResolutionTuple];

function amountToWire(amount: bigint): number | bigint {
  return amount <= SAFE_BIG ? Number(amount) : amount;
}

function amountFromWire(amount: unknown): bigint {
  if (typeof amount === 'number' && Number.isSafeInteger(amount)) return BigInt(amount);
  if (typeof amount === 'bigint') return amount;
  throw corrupt('saga amount');
}

function metadataFromWire(metadata: unknown): Metadata | null {
  return metadata === null || metadata === undefined ? null : (Object.freeze(metadata) as Metadata);
}

/** Whether a saga event or command has the trailing fields of a cross-shard hold (the fast
 * writers below leave those to msgpackr). */
function hasHoldFields(item: SagaEvent | SagaCommand): boolean {
  if (item.type === 'FundsReserved' || item.type === 'ReserveFunds') return false;
  return (
    item.resolution !== undefined ||
    ((item.type === 'ReservationCommitted' || item.type === 'CommitReservation') &&
      item.amount !== undefined)
  );
}

export function isSagaEvent(event: LedgerEvent): event is SagaEvent {
  return (
    event.type === 'FundsReserved' ||
    event.type === 'ReservationCommitted' ||
    event.type === 'ReservationReleased'
  );
}

export function isSagaCommand(command: Command): command is SagaCommand {
  return (
    command.type === 'ReserveFunds' ||
    command.type === 'CommitReservation' ||
    command.type === 'ReleaseReservation'
  );
}

function legsToTuples(legs: readonly ReservationLeg[]): LegTuple[] {
  const tuples: LegTuple[] = new Array(legs.length);
  for (let index = 0; index < legs.length; index += 1) {
    const { side, transfer } = legs[index] as ReservationLeg;
    tuples[index] = [
      side === 'debit' ? 0 : 1,
      transfer.id,
      transfer.debitAccountId,
      transfer.creditAccountId,
      transfer.amount <= SAFE_BIG ? Number(transfer.amount) : transfer.amount,
      transfer.currency,
      transfer.pending ? 1 : 0,
      transfer.timeoutMs,
      transfer.metadata,
    ];
  }
  return tuples;
}

function corrupt(reason: string): LedgerError {
  return new LedgerError('STORAGE_CORRUPT', { reason });
}

function legsFromTuples(tuples: unknown): ReservationLeg[] {
  if (!Array.isArray(tuples)) throw corrupt('saga legs are not an array');
  const legs: ReservationLeg[] = new Array(tuples.length);
  for (let index = 0; index < tuples.length; index += 1) {
    const tuple = tuples[index] as LegTuple;
    if (!Array.isArray(tuple) || tuple.length !== 9) throw corrupt('saga leg tuple');
    const amount = tuple[4];
    legs[index] = {
      side: tuple[0] === 0 ? 'debit' : 'credit',
      transfer: {
        id: tuple[1],
        debitAccountId: tuple[2],
        creditAccountId: tuple[3],
        amount: typeof amount === 'number' ? BigInt(amount) : amount,
        currency: tuple[5],
        pending: tuple[6] === 1,
        timeoutMs: tuple[7],
        metadata: tuple[8] === null ? null : (Object.freeze(tuple[8]) as Metadata),
      },
    };
  }
  return legs;
}

export function sagaEventToTuple(event: SagaEvent, base: bigint): SagaEventTuple {
  const offset = event.timestamp - base;
  assert(
    offset >= 0n && offset <= SAFE_BIG,
    'saga event timestamp within a safe offset of the record base',
  );
  const at = Number(offset);
  switch (event.type) {
    case 'FundsReserved':
      return [RESERVE, at, event.sagaId, event.participants, legsToTuples(event.legs)];
    case 'ReservationCommitted': {
      if (!hasHoldFields(event)) return [COMMIT, at, event.sagaId, legsToTuples(event.legs)];
      const resolution: HoldResolutionTuple | null =
        event.resolution === undefined ? null : [event.resolution.id, event.resolution.metadata];
      return [
        COMMIT,
        at,
        event.sagaId,
        legsToTuples(event.legs),
        event.amount === undefined ? null : amountToWire(event.amount),
        resolution,
      ];
    }
    case 'ReservationReleased':
      if (event.resolution === undefined)
        return [RELEASE, at, event.sagaId, legsToTuples(event.legs), event.reason];
      return [
        RELEASE,
        at,
        event.sagaId,
        legsToTuples(event.legs),
        event.reason,
        [event.resolution.id, event.resolution.metadata],
      ];
  }
}

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

export function sagaEventFromTuple(tuple: SagaEventTuple, base: bigint): SagaEvent {
  if (!Array.isArray(tuple)) throw corrupt('saga event tuple');
  const timestamp = base + BigInt(tuple[1]);
  switch (tuple[0]) {
    case RESERVE:
      return {
        type: 'FundsReserved',
        timestamp,
        sagaId: tuple[2],
        participants: tuple[3],
        legs: legsFromTuples(tuple[4]),
      };
    case COMMIT: {
      const event: ReservationCommitted = {
        type: 'ReservationCommitted',
        timestamp,
        sagaId: tuple[2],
        legs: legsFromTuples(tuple[3]),
      };
      if (tuple.length === 4) return event;
      const [, , , , amount, resolution] = tuple as [
        number,
        number,
        string,
        LegTuple[],
        unknown,
        unknown,
      ];
      return {
        ...event,
        ...(amount === null || amount === undefined ? {} : { amount: amountFromWire(amount) }),
        ...(resolution === null || resolution === undefined
          ? {}
          : { resolution: holdResolutionFromWire(resolution) }),
      };
    }
    case RELEASE: {
      const event: ReservationReleased = {
        type: 'ReservationReleased',
        timestamp,
        sagaId: tuple[2],
        legs: legsFromTuples(tuple[3]),
        reason: tuple[4],
      };
      if (tuple.length === 5) return event;
      return { ...event, resolution: holdResolutionFromWire((tuple as unknown[])[5]) };
    }
    default:
      throw corrupt(`unknown saga event code ${String((tuple as unknown[])[0])}`);
  }
}

function holdResolutionFromWire(value: unknown): { id: string; metadata: Metadata | null } {
  if (!Array.isArray(value) || typeof value[0] !== 'string') throw corrupt('hold resolution tuple');
  return { id: value[0], metadata: metadataFromWire(value[1]) };
}

function resolutionToWire(resolution: PendingResolutionSpec | undefined): ResolutionTuple | null {
  if (resolution === undefined) return null;
  return [
    resolution.id,
    resolution.pendingId,
    resolution.amount === null ? null : amountToWire(resolution.amount),
    resolution.metadata,
  ];
}

function resolutionFromWire(value: unknown): PendingResolutionSpec {
  if (!Array.isArray(value) || typeof value[0] !== 'string' || typeof value[1] !== 'string') {
    throw new LedgerError('INVALID_ARGUMENT', { reason: 'hold resolution tuple' });
  }
  return {
    id: value[0],
    pendingId: value[1],
    amount: value[2] === null ? null : amountFromWire(value[2]),
    metadata: metadataFromWire(value[3]),
  };
}

export function sagaCommandToTuple(command: SagaCommand): SagaCommandTuple {
  switch (command.type) {
    case 'ReserveFunds':
      return [RESERVE, command.sagaId, command.participants, legsToTuples(command.legs)];
    case 'CommitReservation':
      if (!hasHoldFields(command)) return [COMMIT, command.sagaId];
      return [
        COMMIT,
        command.sagaId,
        command.amount === undefined ? null : amountToWire(command.amount),
        resolutionToWire(command.resolution),
      ];
    case 'ReleaseReservation':
      if (command.resolution === undefined) return [RELEASE, command.sagaId, command.reason];
      return [
        RELEASE,
        command.sagaId,
        command.reason,
        resolutionToWire(command.resolution) as ResolutionTuple,
      ];
  }
}

export function sagaCommandFromTuple(tuple: SagaCommandTuple): SagaCommand {
  switch (tuple[0]) {
    case RESERVE:
      return {
        type: 'ReserveFunds',
        sagaId: tuple[1],
        participants: tuple[2],
        legs: legsFromTuples(tuple[3]),
      };
    case COMMIT: {
      if (tuple.length === 2) return { type: 'CommitReservation', sagaId: tuple[1] };
      const [, sagaId, amount, resolution] = tuple as [number, string, unknown, unknown];
      return {
        type: 'CommitReservation',
        sagaId,
        ...(amount === null || amount === undefined ? {} : { amount: amountFromWire(amount) }),
        ...(resolution === null || resolution === undefined
          ? {}
          : { resolution: resolutionFromWire(resolution) }),
      };
    }
    case RELEASE:
      if (tuple.length === 3)
        return { type: 'ReleaseReservation', sagaId: tuple[1], reason: tuple[2] };
      return {
        type: 'ReleaseReservation',
        sagaId: tuple[1],
        reason: tuple[2],
        resolution: resolutionFromWire((tuple as unknown[])[3]),
      };
    default:
      throw new LedgerError('INVALID_ARGUMENT', {
        reason: `unknown saga command code ${String((tuple as unknown[])[0])}`,
      });
  }
}

// ---- saga outcome runs (the saga index's batched part) ---------------------------------------
// The final outcomes staged in one group commit whose saga ids were each above every saga id
// before them (ShardEngine's saga-id max), stored as ONE value keyed by the first id: one LMDB put
// per call instead of one per saga (a put cost ~4 µs of CPU per saga step here, main thread,
// lmdb-js' write thread and GC together). The ids ascend and are ASCII, so runs never overlap:
// a saga in a run is in the run with the greatest first id <= it. Layout: u32 count, u32 offset
// per entry (from the value's start), then per entry u8 outcome code, u16 id length, id (ASCII).

const OUTCOME_CODES = [
  'reserved',
  'committed',
  'released',
] as const satisfies readonly SagaOutcome[];

export interface SagaRun {
  readonly ids: string[];
  readonly outcomes: SagaOutcome[];
}

export function encodeSagaRun(run: SagaRun): Buffer {
  const count = run.ids.length;
  assert(count > 0 && count === run.outcomes.length, 'a saga run has one outcome per id');
  let size = 4 + 4 * count;
  for (const id of run.ids) size += 3 + id.length;
  const bytes = Buffer.allocUnsafe(size);
  bytes.writeUInt32LE(count, 0);
  let at = 4 + 4 * count;
  for (let index = 0; index < count; index += 1) {
    const id = run.ids[index] as string;
    assert(index === 0 || id > (run.ids[index - 1] as string), 'saga run ids ascend');
    bytes.writeUInt32LE(at, 4 + 4 * index);
    bytes[at] = OUTCOME_CODES.indexOf(run.outcomes[index] as SagaOutcome);
    bytes.writeUInt16LE(id.length, at + 1);
    // ASCII (the engine's rule for runs): one byte per character.
    const written = bytes.write(id, at + 3, 'latin1');
    assert(written === id.length, 'saga run id written whole');
    at += 3 + id.length;
  }
  return bytes;
}

function sagaRunId(bytes: Buffer, index: number): { id: string; at: number } {
  const at = bytes.readUInt32LE(4 + 4 * index);
  return { id: bytes.toString('latin1', at + 3, at + 3 + bytes.readUInt16LE(at + 1)), at };
}

function sagaRunOutcome(bytes: Buffer, at: number): SagaOutcome {
  const outcome = OUTCOME_CODES[bytes[at] as number];
  if (outcome === undefined) throw corrupt('saga run outcome code');
  return outcome;
}

/** The outcome of `sagaId` in a run (binary search), or undefined. */
export function findInSagaRun(value: Uint8Array, sagaId: string): SagaOutcome | undefined {
  const bytes = bufferView(value);
  const index = searchAscending(bytes.readUInt32LE(0), (at) => sagaRunId(bytes, at).id, sagaId);
  return index === -1 ? undefined : sagaRunOutcome(bytes, sagaRunId(bytes, index).at);
}

export function lastIdOfSagaRun(value: Uint8Array): string {
  const bytes = bufferView(value);
  return sagaRunId(bytes, bytes.readUInt32LE(0) - 1).id;
}

/** Every (saga id, outcome) of a run, in order (tests, tools). */
export function sagaRunEntries(value: Uint8Array): [string, SagaOutcome][] {
  const bytes = bufferView(value);
  const entries: [string, SagaOutcome][] = [];
  for (let index = 0; index < bytes.readUInt32LE(0); index += 1) {
    const { id, at } = sagaRunId(bytes, index);
    entries.push([id, sagaRunOutcome(bytes, at)]);
  }
  return entries;
}
