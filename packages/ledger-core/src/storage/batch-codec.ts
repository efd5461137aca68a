// The wire format of a batch of commands and of its results between threads. CreateTransfer
// commands travel as transfer columns (transfer-columns.ts), every other command whole with its
// position; results as one joined string of statuses plus typed arrays of sequence numbers and
// timestamp offsets.

import { Packr } from 'msgpackr';
import { assert } from '../assert.js';
import type { Command } from '../domain/types.js';
import { isSagaCommand, sagaCommandFromTuple, sagaCommandToTuple, writeSagaCommands, type SagaCommand, type SagaCommandTuple } from './saga-codec.js';
import { TransferColumnsBuilder, TransferColumnsReader, type TransferColumns } from './transfer-columns.js';
import type { CommandResult, CommandStatus } from './engine-types.js';

const packr = new Packr({ useRecords: false, useBigIntExtension: true, moreTypes: true, structuredClone: false });
const SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);

interface WireCommands {
  readonly v: 2;
  readonly count: number;
  readonly transfers: TransferColumns;
  readonly others: [number, Command][];
  /** Saga steps as tuples (saga-codec.ts), with their position. */
  readonly sagas: [number, SagaCommandTuple][];
}

export function encodeCommandBatch(commands: readonly Command[]): Uint8Array {
  const transfers = new TransferColumnsBuilder(commands.length);
  const others: [number, Command][] = [];
  const sagaCommands: SagaCommand[] = [];
  const sagaPositions: number[] = [];
  for (let index = 0; index < commands.length; index += 1) {
    const command = commands[index] as Command;
    if (command.type === 'CreateTransfer') transfers.add(command.transfer);
    else if (isSagaCommand(command)) {
      sagaCommands.push(command);
      sagaPositions.push(index);
    } else others.push([index, command]);
  }
  // `sagas` last: its bytes end the batch, so writeSagaCommands can append them to the rest.
  const wire: WireCommands = { v: 2, count: commands.length, transfers: transfers.build(), others, sagas: [] };
  const packed = packr.pack(wire);
  if (sagaCommands.length === 0) return packed;
  // msgpackr wrote `sagas` as an empty array (0x90), the last byte: the same bytes with the saga
  // tuples in that array instead (msgpack-writer.ts says why not msgpackr).
  assert(packed[packed.length - 1] === 0x90, 'a command batch ends with its sagas array');
  const written = writeSagaCommands(packed.subarray(0, packed.length - 1), sagaPositions, sagaCommands);
  if (written !== null) return written;
  const sagas: [number, SagaCommandTuple][] = sagaCommands.map((command, index) => [sagaPositions[index] as number, sagaCommandToTuple(command)]);
  return packr.pack({ ...wire, sagas });
}

/** A command batch read without building its CreateTransfer commands: the engine's plain-transfer
 * lane reads their fields from the columns (ShardEngine.submitEncoded). */
export interface CommandBatchView {
  readonly count: number;
  /** The CreateTransfer commands, in order, by column. */
  readonly transfers: TransferColumnsReader;
  /** Every other command at its position in the batch; holes where a CreateTransfer is. */
  readonly others: (Command | undefined)[];
  /** Whether the batch holds only CreateTransfer commands. */
  readonly onlyTransfers: boolean;
}

export function readCommandBatch(bytes: Uint8Array): CommandBatchView {
  const wire = packr.unpack(bytes) as WireCommands;
  assert(wire.v === 2, 'command batch version');
  const otherCount = wire.others.length + wire.sagas.length;
  const others: (Command | undefined)[] = new Array(otherCount === 0 ? 0 : wire.count);
  for (const [index, command] of wire.others) others[index] = command;
  for (const [index, tuple] of wire.sagas) others[index] = sagaCommandFromTuple(tuple);
  const transfers = new TransferColumnsReader(wire.transfers);
  assert(transfers.count + otherCount === wire.count, 'command batch counts agree');
  return { count: wire.count, transfers, others, onlyTransfers: otherCount === 0 };
}

export function decodeCommandBatch(bytes: Uint8Array): Command[] {
  const view = readCommandBatch(bytes);
  const commands: Command[] = new Array(view.count);
  for (let index = 0; index < view.others.length; index += 1) {
    const command = view.others[index];
    if (command !== undefined) commands[index] = command;
  }
  const transfers = view.transfers;
  let column = 0;
  for (let index = 0; index < view.count; index += 1) {
    if (commands[index] !== undefined) continue;
    commands[index] = { type: 'CreateTransfer', transfer: transfers.spec(column) };
    column += 1;
  }
  assert(column === transfers.count, 'every column used');
  return commands;
}

interface WireResults {
  readonly v: 1;
  readonly statuses: string;
  readonly members: Record<number, CommandStatus[]> | null;
  /** Sequence of the last event written per result; -1 when none. */
  readonly sequences: Float64Array;
  /** Timestamp of the first event written per result, as base + offset (ns); offset -1 when none. */
  readonly base: bigint;
  readonly offsets: Float64Array;
}

/** Collects results straight into the wire layout (the engine's plain-transfer lane writes
 * `ok` results without a result object). Timestamps are `base` + a safe-integer offset in ns. */
export class ResultBatchWriter {
  private readonly statuses: string[];
  private readonly sequences: Float64Array;
  private readonly offsets: Float64Array;
  private members: Record<number, CommandStatus[]> | null = null;
  private readonly base: bigint;

  constructor(count: number, base: bigint) {
    this.statuses = new Array<string>(count);
    this.sequences = new Float64Array(count).fill(-1);
    this.offsets = new Float64Array(count).fill(-1);
    this.base = base;
  }

  /** An `ok` result whose first event has timestamp base + offset. */
  ok(index: number, sequence: number, offset: number): void {
    this.statuses[index] = 'ok';
    this.sequences[index] = sequence;
    this.offsets[index] = offset;
  }

  set(index: number, result: CommandResult): void {
    this.statuses[index] = result.status;
    if (result.statuses !== undefined) (this.members ??= {})[index] = [...result.statuses];
    if (result.sequence !== undefined) this.sequences[index] = result.sequence;
    if (result.timestamp !== undefined) {
      const offset = result.timestamp - this.base;
      assert(offset >= 0n && offset <= SAFE_BIG, 'result timestamps at or after the batch base');
      this.offsets[index] = Number(offset);
    }
  }

  encode(): Uint8Array {
    const wire: WireResults = {
      v: 1,
      statuses: this.statuses.join('\n'),
      members: this.members,
      sequences: this.sequences,
      base: this.base,
      offsets: this.offsets,
    };
    return packr.pack(wire);
  }
}

export function encodeResultBatch(results: readonly CommandResult[]): Uint8Array {
  const statuses: string[] = new Array(results.length);
  const sequences = new Float64Array(results.length).fill(-1);
  const offsets = new Float64Array(results.length).fill(-1);
  let members: Record<number, CommandStatus[]> | null = null;
  let base = -1n;
  for (let index = 0; index < results.length; index += 1) {
    const result = results[index] as CommandResult;
    statuses[index] = result.status;
    if (result.statuses !== undefined) (members ??= {})[index] = [...result.statuses];
    if (result.sequence !== undefined) sequences[index] = result.sequence;
    if (result.timestamp !== undefined) {
      if (base < 0n) base = result.timestamp;
      const offset = result.timestamp - base;
      assert(offset >= 0n && offset <= SAFE_BIG, 'result timestamps increase within a batch');
      offsets[index] = Number(offset);
    }
  }
  const wire: WireResults = { v: 1, statuses: statuses.join('\n'), members, sequences, base, offsets };
  return packr.pack(wire);
}

export function decodeResultBatch(bytes: Uint8Array): CommandResult[] {
  const wire = packr.unpack(bytes) as WireResults;
  assert(wire.v === 1, 'result batch version');
  if (wire.statuses === '') return [];
  return wire.statuses.split('\n').map((status, index) => {
    const result: { status: CommandStatus; statuses?: CommandStatus[]; timestamp?: bigint; sequence?: number } = {
      status: status as CommandStatus,
    };
    const members = wire.members?.[index];
    if (members !== undefined) result.statuses = members;
    const sequence = wire.sequences[index] as number;
    if (sequence >= 0) result.sequence = sequence;
    const offset = wire.offsets[index] as number;
    if (offset >= 0) result.timestamp = wire.base + BigInt(offset);
    return result;
  });
}
