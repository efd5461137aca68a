// Saga commands and events as positional tuples for msgpackr. Packed as objects they cost ~2-4 µs
// each here (every key is written as a string, nested twice: event -> legs -> transfer); as
// arrays of primitives ~0.7-1.1 µs to pack and ~0.35 µs to unpack, and 88 bytes instead of 258
// for a one-leg reservation (msgpackr pack/unpack loops over 819 reservations, loaded machine).
// A tuple's first element is its type code; amounts travel as numbers below 2^53, else bigints.

import { assert } from '../assert.js';
import { LedgerError } from '../errors.js';
import { SAFE_BIG } from '../limits.js';
import type {
  Command,
  FundsReserved,
  HoldResolution,
  LedgerEvent,
  Metadata,
  PendingResolutionSpec,
  ReservationCommitted,
  ReservationLeg,
  ReservationReleased,
} from '../domain/types.js';

export const RESERVE = 5;
export const COMMIT = 6;
export const RELEASE = 7;

/** [side (0 debit, 1 credit), id, debit, credit, amount, currency, pending (0|1), timeoutMs,
 * metadata] */
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
 * or void); the tuples of every other saga end before them. */
export type SagaEventTuple =
  | [typeof RESERVE, number, string, readonly number[], LegTuple[]]
  | [typeof COMMIT, number, string, LegTuple[]]
  | [typeof COMMIT, number, string, LegTuple[], number | bigint | null, HoldResolutionTuple | null]
  | [typeof RELEASE, number, string, LegTuple[], string]
  | [typeof RELEASE, number, string, LegTuple[], string, HoldResolutionTuple];

/** Command tuples. The commit and release of a cross-shard hold have trailing fields: the
 * amount posted (a commit's; null for all), the post or void to decide (the debit shard's), and
 * the post or void decided that the credit shard follows. */
export type SagaCommandTuple =
  | [typeof RESERVE, string, readonly number[], LegTuple[]]
  | [typeof COMMIT, string]
  | [
      typeof COMMIT,
      string,
      number | bigint | null,
      ResolutionTuple | null,
      HoldResolutionTuple | null,
    ]
  | [typeof RELEASE, string, string]
  | [typeof RELEASE, string, string, ResolutionTuple | null, HoldResolutionTuple | null];

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
 * writers of saga-writer.ts leave those to msgpackr). */
export function hasHoldFields(item: SagaEvent | SagaCommand): boolean {
  if (item.type === 'FundsReserved' || item.type === 'ReserveFunds') return false;
  return (
    item.resolution !== undefined ||
    ((item.type === 'CommitReservation' || item.type === 'ReleaseReservation') &&
      item.follows !== undefined) ||
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

function followsToWire(follows: HoldResolution | undefined): HoldResolutionTuple | null {
  return follows === undefined ? null : [follows.id, follows.metadata];
}

function followsFromWire(value: unknown): { follows?: HoldResolution } {
  if (value === null || value === undefined) return {};
  if (!Array.isArray(value) || typeof value[0] !== 'string')
    throw new LedgerError('INVALID_ARGUMENT', { reason: 'followed hold resolution tuple' });
  return { follows: { id: value[0], metadata: metadataFromWire(value[1]) } };
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
        followsToWire(command.follows),
      ];
    case 'ReleaseReservation':
      if (!hasHoldFields(command)) return [RELEASE, command.sagaId, command.reason];
      return [
        RELEASE,
        command.sagaId,
        command.reason,
        resolutionToWire(command.resolution),
        followsToWire(command.follows),
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
      const [, sagaId, amount, resolution, follows] = tuple as [
        number,
        string,
        unknown,
        unknown,
        unknown,
      ];
      return {
        type: 'CommitReservation',
        sagaId,
        ...(amount === null || amount === undefined ? {} : { amount: amountFromWire(amount) }),
        ...(resolution === null || resolution === undefined
          ? {}
          : { resolution: resolutionFromWire(resolution) }),
        ...followsFromWire(follows),
      };
    }
    case RELEASE: {
      if (tuple.length === 3)
        return { type: 'ReleaseReservation', sagaId: tuple[1], reason: tuple[2] };
      const [, sagaId, reason, resolution, follows] = tuple as [
        number,
        string,
        string,
        unknown,
        unknown,
      ];
      return {
        type: 'ReleaseReservation',
        sagaId,
        reason,
        ...(resolution === null || resolution === undefined
          ? {}
          : { resolution: resolutionFromWire(resolution) }),
        ...followsFromWire(follows),
      };
    }
    default:
      throw new LedgerError('INVALID_ARGUMENT', {
        reason: `unknown saga command code ${String((tuple as unknown[])[0])}`,
      });
  }
}
