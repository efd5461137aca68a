// Goal: command and result batches round-trip exactly, built whole or in parts, and keep the
// version-1 layout byte for byte; transfer columns report a batch's one currency.
// Method: encode, decode, compare bytes and values.
import { describe, expect, it } from 'vitest';
import { type Command, type CommandResult } from '../src/index.js';
import {
  CommandBatchBuilder,
  decodeCommandBatch,
  decodeResultBatch,
  encodeCommandBatch,
  encodeResultBatch,
  ResultBatchView,
} from '../src/storage/batch-codec.js';
import { transferRecordOf } from '../src/domain/records.js';
import { encodePlainRun, findInPlainRun } from '../src/storage/plain-run.js';
import { writeTransferRecord } from '../src/storage/transfer-record.js';
import { ValueArena } from '../src/storage/value-arena.js';
import { TransferColumnsBuilder, TransferColumnsReader } from '../src/storage/transfer-columns.js';
import { amounts, BASE, legs, spec } from './fixtures/codec-fixtures.js';

describe('command batches', () => {
  it('round-trip saga steps among transfers, in order', () => {
    const commands: Command[] = [];
    for (const amount of amounts) {
      commands.push({ type: 'CreateTransfer', transfer: spec(`t-${amount}`, amount) });
      commands.push({
        type: 'ReserveFunds',
        sagaId: `s-${amount}`,
        participants: [1, 2],
        legs: legs(amount),
      });
      commands.push({ type: 'CommitReservation', sagaId: `s-${amount}` });
      commands.push({ type: 'ReleaseReservation', sagaId: `s-${amount}`, reason: 'refused' });
    }
    commands.push({ type: 'ExpirePendingTransfers' });
    // The steps of a cross-shard hold's post and void: on the deciding shard, then the other.
    commands.push({
      type: 'CommitReservation',
      sagaId: 'h-1~x',
      resolution: { id: 'p-1', pendingId: 'h-1', amount: null, metadata: null },
    });
    commands.push({
      type: 'CommitReservation',
      sagaId: 'h-2~x',
      resolution: { id: 'p-2', pendingId: 'h-2', amount: 2n ** 100n, metadata: { order: 'o-1' } },
    });
    commands.push({ type: 'CommitReservation', sagaId: 'h-2~x', amount: 2n ** 100n });
    commands.push({
      type: 'CommitReservation',
      sagaId: 'h-2~x',
      amount: 7n,
      follows: { id: 'p-2', metadata: { order: 'o-1' } },
    });
    commands.push({
      type: 'ReleaseReservation',
      sagaId: 'h-3~x',
      reason: 'voided',
      resolution: { id: 'v-3', pendingId: 'h-3', amount: null, metadata: null },
    });
    commands.push({ type: 'ReleaseReservation', sagaId: 'h-3~x', reason: 'voided' });
    commands.push({
      type: 'ReleaseReservation',
      sagaId: 'h-3~x',
      reason: 'voided',
      follows: { id: 'v-3', metadata: null },
    });
    expect(decodeCommandBatch(encodeCommandBatch(commands))).toEqual(commands);
  });

  it("are the same bytes when built in parts and appended, or from plain transfers' fields", () => {
    const commands: Command[] = [];
    for (const amount of amounts) {
      commands.push({ type: 'CreateTransfer', transfer: spec(`t-${amount}`, amount) });
      commands.push({
        type: 'ReserveFunds',
        sagaId: `s-${amount}`,
        participants: [1, 2],
        legs: legs(amount),
      });
      commands.push({
        type: 'CreateTransfer',
        transfer: spec(`p-${amount}`, amount, { pending: true, metadata: { k: 'v' } }),
      });
      commands.push({ type: 'CommitReservation', sagaId: `s-${amount}` });
    }
    commands.push({ type: 'ExpirePendingTransfers' });
    commands.push({ type: 'CreateTransfer', transfer: spec('plain-é', 7n) });
    const whole = encodeCommandBatch(commands);
    for (const cut of [0, 1, 5, 13, commands.length]) {
      const left = new CommandBatchBuilder(1);
      const right = new CommandBatchBuilder(1);
      for (const [index, command] of commands.entries()) {
        const part = index < cut ? left : right;
        // Plain transfers go in by their fields, as the router writes them.
        if (
          command.type === 'CreateTransfer' &&
          !command.transfer.pending &&
          command.transfer.metadata === null &&
          command.transfer.amount < 2n ** 53n
        ) {
          const { id, debitAccountId, creditAccountId, currency, amount } = command.transfer;
          part.addPlainTransfer(id, debitAccountId, creditAccountId, currency, Number(amount));
        } else part.add(command);
      }
      left.append(right);
      expect(left.count).toBe(commands.length);
      expect(Buffer.from(left.encode()).equals(Buffer.from(whole)), `cut at ${cut}`).toBe(true);
    }
    expect(decodeCommandBatch(whole)).toEqual(commands);
  });

  it('keep the layout of version 1 byte for byte, non-ASCII fields included', () => {
    // Version 1, built the general way: each entry is the id (ValueArena.string) and the
    // general record writer's bytes for the posted transfer, then a header buffer in front.
    function reference(reader: TransferColumnsReader, taken: number[], offsets: number[]): Buffer {
      const arena = new ValueArena(64);
      const entryOffsets: number[] = [];
      for (const [at, column] of taken.entries()) {
        entryOffsets.push(arena.pendingBytes);
        arena.string(reader.ids[column] as string);
        writeTransferRecord(
          arena,
          transferRecordOf(
            reader.spec(column),
            BASE + BigInt(offsets[at] as number),
            'posted',
            null,
          ),
        );
      }
      entryOffsets.push(arena.pendingBytes);
      const entries = arena.takeCopy();
      const header = Buffer.alloc(5 + 4 * entryOffsets.length);
      header.writeUInt8(1, 0);
      header.writeUInt32LE(taken.length, 1);
      for (const [at, offset] of entryOffsets.entries()) header.writeUInt32LE(offset, 5 + 4 * at);
      return Buffer.concat([header, entries]);
    }
    const builder = new TransferColumnsBuilder(4);
    const fields = [
      ['t-1', 'acct-1', 'acct-2', 'USD'],
      ['t-2', 'kontö-7', 'acct-1', 'USD'],
      ['t-3', 'acct-2', '账户-😀', 'EUR'],
      ['t-4', 'a', 'b', 'USD'],
    ] as const;
    for (const [index, [id, debit, credit, currency]] of fields.entries())
      builder.addPlain(id, debit, credit, currency, 1 + index * 1000);
    const taken = [0, 1, 2, 3];
    const offsets = [0, 5, 6, 2 ** 40];
    const value = encodePlainRun(new TransferColumnsReader(builder.build()), taken, offsets, BASE);
    expect(
      Buffer.from(value).equals(
        reference(new TransferColumnsReader(builder.build()), taken, offsets),
      ),
    ).toBe(true);
    expect(findInPlainRun(value, 't-3')?.creditAccountId).toBe('账户-😀');
    expect(
      Buffer.from(
        encodePlainRun(new TransferColumnsReader(builder.build()), [1, 3], [1, 2], BASE),
      ).equals(reference(new TransferColumnsReader(builder.build()), [1, 3], [1, 2])),
    ).toBe(true);
    // Long fields: the arena outgrows its first buffer mid-run (header included in the copy).
    const long = new TransferColumnsBuilder(80);
    for (let index = 0; index < 80; index += 1)
      long.addPlain(
        `t-${String(index).padStart(125, '0')}`,
        'd'.repeat(128),
        `ü${'c'.repeat(60)}`,
        'USD',
        index + 1,
      );
    const all = Array.from({ length: 80 }, (_, index) => index);
    const grown = encodePlainRun(new TransferColumnsReader(long.build()), all, all, BASE);
    expect(grown.length).toBeGreaterThan(4096 * 2);
    expect(
      Buffer.from(grown).equals(reference(new TransferColumnsReader(long.build()), all, all)),
    ).toBe(true);
  });
});

describe('transfer columns', () => {
  it('report the one currency of a batch without splitting, and null for mixed or empty ones', () => {
    const reader = (currencies: string[]): TransferColumnsReader => {
      const builder = new TransferColumnsBuilder(currencies.length);
      for (const [index, currency] of currencies.entries())
        builder.addPlain(`t-${index}`, 'acct-1', 'acct-2', currency, 1);
      return new TransferColumnsReader(builder.build());
    };
    expect(reader(['USD', 'USD', 'USD']).sameCurrency).toBe('USD');
    expect(reader(['X']).sameCurrency).toBe('X');
    expect(reader([]).sameCurrency).toBeNull();
    expect(reader(['USD', 'USD', 'EUR']).sameCurrency).toBeNull();
    expect(reader(['EUR', 'USD', 'USD']).sameCurrency).toBeNull();
    expect(reader(['AB', 'A']).sameCurrency).toBeNull();
    expect(reader(['A', 'AB']).sameCurrency).toBeNull();
    expect(reader(['A', 'A', 'AA']).sameCurrency).toBeNull();
    const mixed = reader(['USD', 'EUR', 'USD']);
    expect(mixed.currencies).toEqual(['USD', 'EUR', 'USD']);
  });
});

describe('result batches', () => {
  it('round-trip statuses, group members, sequences and timestamps; the view reads a status without a result object', () => {
    const results: CommandResult[] = [
      { status: 'ok', sequence: 4, timestamp: BASE },
      { status: 'insufficient_funds' },
      { status: 'ok', sequence: 9, timestamp: BASE + 2n ** 40n },
      { status: 'linked_transfer_failed', statuses: ['ok', 'account_not_found'] },
      { status: 'exists' },
      { status: 'insufficient_funds' },
    ];
    const bytes = encodeResultBatch(results);
    expect(decodeResultBatch(bytes)).toEqual(results);
    const view = new ResultBatchView(bytes);
    expect(view.count).toBe(results.length);
    expect(results.map((_, index) => view.status(index))).toEqual(
      results.map((result) => result.status),
    );
    expect(decodeResultBatch(encodeResultBatch([]))).toEqual([]);
    expect(ResultBatchView.empty.count).toBe(0);
    // Timestamps are base + offset: one before the first is refused, not wrapped.
    expect(() =>
      encodeResultBatch([
        { status: 'ok', timestamp: BASE },
        { status: 'ok', timestamp: BASE - 1n },
      ]),
    ).toThrow(/timestamps/);
  });
});
