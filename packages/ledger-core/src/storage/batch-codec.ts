// The wire format of a batch of commands and of its results between threads. Same reasoning as
// the event log's columnar record (codec.ts): packing thousands of small objects with msgpackr
// costs ~1.4 us each here, so CreateTransfer commands travel as joined id columns and a
// Float64Array of amounts, and results as one joined string of statuses. Every other command
// travels whole, with its position. Results carry status (and per-member statuses); timestamps
// and sequence numbers stay in the worker.

import { Packr } from 'msgpackr';
import { assert } from '../assert.js';
import type { Command, Metadata, TransferSpec } from '../domain/types.js';
import type { CommandResult, CommandStatus } from './engine-types.js';

const packr = new Packr({ useRecords: false, useBigIntExtension: true, moreTypes: true, structuredClone: false });
const SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);

interface WireCommands {
  readonly v: 1;
  readonly count: number;
  readonly ids: string;
  readonly debits: string;
  readonly credits: string;
  readonly currencies: string;
  readonly amounts: Float64Array;
  readonly bigAmounts: Record<number, bigint> | null;
  readonly extras: Record<number, [number, number, Metadata | null]> | null;
  readonly others: [number, Command][];
}

export function encodeCommandBatch(commands: readonly Command[]): Uint8Array {
  const ids: string[] = [];
  const debits: string[] = [];
  const credits: string[] = [];
  const currencies: string[] = [];
  const amounts = new Float64Array(commands.length);
  let bigAmounts: Record<number, bigint> | null = null;
  let extras: Record<number, [number, number, Metadata | null]> | null = null;
  const others: [number, Command][] = [];
  let column = 0;
  for (let index = 0; index < commands.length; index += 1) {
    const command = commands[index] as Command;
    if (command.type !== 'CreateTransfer') {
      others.push([index, command]);
      continue;
    }
    const spec = command.transfer;
    ids.push(spec.id);
    debits.push(spec.debitAccountId);
    credits.push(spec.creditAccountId);
    currencies.push(spec.currency);
    if (spec.amount <= SAFE_BIG) amounts[column] = Number(spec.amount);
    else {
      amounts[column] = -1;
      (bigAmounts ??= {})[column] = spec.amount;
    }
    if (spec.pending || spec.metadata !== null) (extras ??= {})[column] = [spec.pending ? 1 : 0, spec.timeoutMs, spec.metadata];
    column += 1;
  }
  const wire: WireCommands = {
    v: 1,
    count: commands.length,
    ids: ids.join('\n'),
    debits: debits.join('\n'),
    credits: credits.join('\n'),
    currencies: currencies.join('\n'),
    amounts: amounts.subarray(0, column),
    bigAmounts,
    extras,
    others,
  };
  return packr.pack(wire);
}

export function decodeCommandBatch(bytes: Uint8Array): Command[] {
  const wire = packr.unpack(bytes) as WireCommands;
  assert(wire.v === 1, 'command batch version');
  const commands: Command[] = new Array(wire.count);
  for (const [index, command] of wire.others) commands[index] = command;
  const columns = wire.amounts.length;
  if (columns === 0) return commands;
  const ids = wire.ids.split('\n');
  const debits = wire.debits.split('\n');
  const credits = wire.credits.split('\n');
  const currencies = wire.currencies.split('\n');
  assert(ids.length === columns && debits.length === columns && credits.length === columns, 'columns agree');
  let column = 0;
  for (let index = 0; index < wire.count; index += 1) {
    if (commands[index] !== undefined) continue;
    const amount = wire.amounts[column] as number;
    const extra = wire.extras?.[column];
    const transfer: TransferSpec = {
      id: ids[column] as string,
      debitAccountId: debits[column] as string,
      creditAccountId: credits[column] as string,
      amount: amount >= 0 ? BigInt(amount) : (wire.bigAmounts?.[column] as bigint),
      currency: currencies[column] as string,
      pending: extra !== undefined && extra[0] === 1,
      timeoutMs: extra === undefined ? 0 : extra[1],
      metadata: extra === undefined ? null : extra[2],
    };
    commands[index] = { type: 'CreateTransfer', transfer };
    column += 1;
  }
  assert(column === columns, 'every column used');
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
