// The wire format of a batch of commands and of its results between threads. CreateTransfer
// commands travel as transfer columns (transfer-columns.ts), every other command whole with its
// position; results as one status code per command (an index into a table of status names) plus
// typed arrays of sequence numbers and timestamp offsets. Result batches are never stored.

import { assert } from '../assert.js';
import { SAFE_BIG } from '../limits.js';
import type { Command } from '../domain/types.js';
import {
  isSagaCommand,
  sagaCommandFromTuple,
  sagaCommandToTuple,
  type SagaCommand,
  type SagaCommandTuple,
} from './saga-codec.js';
import { writeSagaCommands } from './saga-writer.js';
import {
  TransferColumnsBuilder,
  TransferColumnsReader,
  type TransferColumns,
} from './transfer-columns.js';
import type { CommandResult, CommandStatus } from './engine-types.js';
import { packr } from './packr.js';

interface WireCommands {
  readonly v: 2;
  readonly count: number;
  readonly transfers: TransferColumns;
  readonly others: [number, Command][];
  /** Saga steps as tuples (saga-codec.ts), with their position. */
  readonly sagas: [number, SagaCommandTuple][];
}

/** A command batch built up one command at a time, encoded once (the wire layout above). The
 * router writes plain transfers straight into its columns (addPlainTransfer), with no spec or
 * command object per transfer; concurrent calls' batches for one shard are joined (append) into
 * one message. */
export class CommandBatchBuilder {
  private readonly transfers: TransferColumnsBuilder;
  private readonly others: [number, Command][] = [];
  private readonly sagaCommands: SagaCommand[] = [];
  private readonly sagaPositions: number[] = [];
  private size = 0;

  constructor(capacity: number) {
    this.transfers = new TransferColumnsBuilder(capacity);
  }

  get count(): number {
    return this.size;
  }

  add(command: Command): void {
    if (command.type === 'CreateTransfer') this.transfers.add(command.transfer);
    else if (isSagaCommand(command)) {
      this.sagaCommands.push(command);
      this.sagaPositions.push(this.size);
    } else this.others.push([this.size, command]);
    this.size += 1;
  }

  /** A CreateTransfer of a plain transfer (TransferColumnsReader.isPlain: a safe-integer amount,
   * not pending, no metadata) whose fields the caller validated (validate.ts). */
  addPlainTransfer(
    id: string,
    debitAccountId: string,
    creditAccountId: string,
    currency: string,
    amount: number,
  ): void {
    this.transfers.addPlain(id, debitAccountId, creditAccountId, currency, amount);
    this.size += 1;
  }

  /** Appends every command of `other`, in order, after this batch's. */
  append(other: CommandBatchBuilder): void {
    const shift = this.size;
    this.transfers.append(other.transfers);
    for (const [position, command] of other.others) this.others.push([position + shift, command]);
    for (let index = 0; index < other.sagaCommands.length; index += 1) {
      this.sagaCommands.push(other.sagaCommands[index] as SagaCommand);
      this.sagaPositions.push((other.sagaPositions[index] as number) + shift);
    }
    this.size += other.size;
  }

  encode(): Uint8Array {
    assert(
      this.transfers.count + this.others.length + this.sagaCommands.length === this.size,
      'command batch counts agree',
    );
    // `sagas` last: its bytes end the batch, so writeSagaCommands can append them to the rest.
    const wire: WireCommands = {
      v: 2,
      count: this.size,
      transfers: this.transfers.build(),
      others: this.others,
      sagas: [],
    };
    const packed = packr.pack(wire);
    if (this.sagaCommands.length === 0) return packed;
    // msgpackr wrote `sagas` as an empty array (0x90), the last byte: the same bytes with the saga
    // tuples in that array instead (msgpack-writer.ts says why not msgpackr).
    assert(packed[packed.length - 1] === 0x90, 'a command batch ends with its sagas array');
    const written = writeSagaCommands(
      packed.subarray(0, packed.length - 1),
      this.sagaPositions,
      this.sagaCommands,
    );
    if (written !== null) return written;
    const sagas: [number, SagaCommandTuple][] = this.sagaCommands.map((command, index) => [
      this.sagaPositions[index] as number,
      sagaCommandToTuple(command),
    ]);
    return packr.pack({ ...wire, sagas });
  }
}

export function encodeCommandBatch(commands: readonly Command[]): Uint8Array {
  const builder = new CommandBatchBuilder(commands.length);
  for (let index = 0; index < commands.length; index += 1) builder.add(commands[index] as Command);
  return builder.encode();
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
  readonly v: 2;
  /** Per result, an index into `names` (so a status string is not written or read per result). */
  readonly codes: Uint8Array;
  readonly names: string[];
  readonly members: Record<number, CommandStatus[]> | null;
  /** Sequence of the last event written per result; -1 when none. */
  readonly sequences: Float64Array;
  /** Timestamp of the first event written per result, as base + offset (ns); offset -1 when
   * none. */
  readonly base: bigint;
  readonly offsets: Float64Array;
}

/** A code no result has yet (ResultBatchWriter checks that every result was set). */
const unsetCode = 0xff;

/** Collects results straight into the wire layout (the engine's plain-transfer lane writes
 * `ok` results without a result object). Timestamps are `base` + a safe-integer offset in ns. */
export class ResultBatchWriter {
  private readonly codes: Uint8Array;
  private readonly names: string[] = ['ok'];
  private readonly codeOf = new Map<string, number>([['ok', 0]]);
  private readonly sequences: Float64Array;
  private readonly offsets: Float64Array;
  private members: Record<number, CommandStatus[]> | null = null;
  private readonly base: bigint;

  constructor(count: number, base: bigint) {
    this.codes = new Uint8Array(count).fill(unsetCode);
    this.sequences = new Float64Array(count).fill(-1);
    this.offsets = new Float64Array(count).fill(-1);
    this.base = base;
  }

  /** An `ok` result whose first event has timestamp base + offset. */
  ok(index: number, sequence: number, offset: number): void {
    this.codes[index] = 0;
    this.sequences[index] = sequence;
    this.offsets[index] = offset;
  }

  private codeFor(status: CommandStatus): number {
    let code = this.codeOf.get(status);
    if (code === undefined) {
      code = this.names.length;
      assert(code < unsetCode, 'fewer distinct statuses than codes');
      this.names.push(status);
      this.codeOf.set(status, code);
    }
    return code;
  }

  set(index: number, result: CommandResult): void {
    this.codes[index] = this.codeFor(result.status);
    if (result.statuses !== undefined) (this.members ??= {})[index] = [...result.statuses];
    if (result.sequence !== undefined) this.sequences[index] = result.sequence;
    if (result.timestamp !== undefined) {
      const offset = result.timestamp - this.base;
      assert(offset >= 0n && offset <= SAFE_BIG, 'result timestamps at or after the batch base');
      this.offsets[index] = Number(offset);
    }
  }

  encode(): Uint8Array {
    assert(!this.codes.includes(unsetCode), 'every result set');
    const wire: WireResults = {
      v: 2,
      codes: this.codes,
      names: this.names,
      members: this.members,
      sequences: this.sequences,
      base: this.base,
      offsets: this.offsets,
    };
    return packr.pack(wire);
  }
}

export function encodeResultBatch(results: readonly CommandResult[]): Uint8Array {
  let base = -1n;
  for (const result of results) {
    if (result.timestamp !== undefined) {
      base = result.timestamp;
      break;
    }
  }
  const writer = new ResultBatchWriter(results.length, base);
  for (let index = 0; index < results.length; index += 1)
    writer.set(index, results[index] as CommandResult);
  return writer.encode();
}

/** A result batch read without building a result object per command: `status` is what the
 * router needs for a transfer, `result` builds the whole CommandResult. */
export class ResultBatchView {
  /** The results of no command. */
  static readonly empty = new ResultBatchView(new ResultBatchWriter(0, -1n).encode());
  readonly count: number;
  private readonly wire: WireResults;

  constructor(bytes: Uint8Array) {
    const wire = packr.unpack(bytes) as WireResults;
    assert(wire.v === 2, 'result batch version');
    this.wire = wire;
    this.count = wire.codes.length;
  }

  status(index: number): CommandStatus {
    const status = this.wire.names[this.wire.codes[index] as number];
    assert(status !== undefined, 'a result index in range');
    return status as CommandStatus;
  }

  result(index: number): CommandResult {
    const wire = this.wire;
    const result: {
      status: CommandStatus;
      statuses?: CommandStatus[];
      timestamp?: bigint;
      sequence?: number;
    } = { status: this.status(index) };
    const members = wire.members?.[index];
    if (members !== undefined) result.statuses = members;
    const sequence = wire.sequences[index] as number;
    if (sequence >= 0) result.sequence = sequence;
    const offset = wire.offsets[index] as number;
    if (offset >= 0) result.timestamp = wire.base + BigInt(offset);
    return result;
  }

  /** The `count` results from `start` on, as CommandResult objects. */
  results(start: number, count: number): CommandResult[] {
    assert(start >= 0 && start + count <= this.count, 'a result range in range');
    const results = new Array<CommandResult>(count);
    for (let index = 0; index < count; index += 1) results[index] = this.result(start + index);
    return results;
  }
}

export function decodeResultBatch(bytes: Uint8Array): CommandResult[] {
  const view = new ResultBatchView(bytes);
  return view.results(0, view.count);
}
