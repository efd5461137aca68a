// The wire format of a batch of commands and of its results between threads. CreateTransfer
// commands travel as transfer columns (transfer-columns.ts), every other command whole with its
// position; results as one joined string of statuses plus typed arrays of sequence numbers and
// timestamp offsets.

import { Packr } from 'msgpackr';
import { assert } from '../assert.js';
import type { Command } from '../domain/types.js';
import { TransferColumnsBuilder, TransferColumnsReader, type TransferColumns } from './transfer-columns.js';
import type { CommandResult, CommandStatus } from './engine-types.js';

const packr = new Packr({ useRecords: false, useBigIntExtension: true, moreTypes: true, structuredClone: false });
const SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);

interface WireCommands {
  readonly v: 1;
  readonly count: number;
  readonly transfers: TransferColumns;
  readonly others: [number, Command][];
}

export function encodeCommandBatch(commands: readonly Command[]): Uint8Array {
  const transfers = new TransferColumnsBuilder(commands.length);
  const others: [number, Command][] = [];
  for (let index = 0; index < commands.length; index += 1) {
    const command = commands[index] as Command;
    if (command.type === 'CreateTransfer') transfers.add(command.transfer);
    else others.push([index, command]);
  }
  const wire: WireCommands = { v: 1, count: commands.length, transfers: transfers.build(), others };
  return packr.pack(wire);
}

export function decodeCommandBatch(bytes: Uint8Array): Command[] {
  const wire = packr.unpack(bytes) as WireCommands;
  assert(wire.v === 1, 'command batch version');
  const commands: Command[] = new Array(wire.count);
  for (const [index, command] of wire.others) commands[index] = command;
  const transfers = new TransferColumnsReader(wire.transfers);
  let column = 0;
  for (let index = 0; index < wire.count; index += 1) {
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
