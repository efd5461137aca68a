// Goal: the storage encodings round-trip every event and command exactly (amounts
// 0..2^128-1), records written by the previous layout (version 2) still decode, and a plain run
// (the lane's index entry) finds exactly its transfers.
// Method: encode, decode, compare; a version-2 record is packed by hand in its layout.
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  parseTransfer,
  type Command,
  type CommandResult,
  type LedgerEvent,
  type ReservationLeg,
  type TransferSpec,
} from '../src/index.js';
import { AMOUNT_MAX } from '../src/limits.js';
import {
  CommandBatchBuilder,
  decodeCommandBatch,
  decodeResultBatch,
  encodeCommandBatch,
  encodeResultBatch,
  ResultBatchView,
} from '../src/storage/batch-codec.js';
import { decodeEventRecord, encodeEventRecord } from '../src/storage/event-record.js';
import { transferRecordOf } from '../src/domain/records.js';
import { encodePlainRun, findInPlainRun, lastIdOfPlainRun } from '../src/storage/plain-run.js';
import { writeTransferRecord } from '../src/storage/transfer-record.js';
import { ValueArena } from '../src/storage/value-arena.js';
import { TransferColumnsBuilder, TransferColumnsReader } from '../src/storage/transfer-columns.js';

const BASE = 1_700_000_000_000_000_000n;
const amounts = [1n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 64n - 1n, 2n ** 64n, AMOUNT_MAX];

function spec(id: string, amount: bigint, extra: Record<string, unknown> = {}): TransferSpec {
  const parsed = parseTransfer({
    id,
    debitAccountId: 'acct-1',
    creditAccountId: 'acct-2',
    amount,
    currency: 'USD',
    ...extra,
  });
  if (!parsed.ok) throw new Error(parsed.code);
  return parsed.value;
}

const legs = (amount: bigint): ReservationLeg[] => [
  { side: 'debit', transfer: spec(`d-${amount}`, amount) },
  {
    side: 'credit',
    transfer: spec(`c-${amount}`, amount, { metadata: { order: 'o-7', note: 'ünïcode' } }),
  },
];

function sagaEvents(): LedgerEvent[] {
  const events: LedgerEvent[] = [];
  let at = BASE;
  for (const amount of amounts) {
    events.push({
      type: 'TransferCreated',
      timestamp: (at += 1n),
      transfer: spec(`t-${amount}`, amount),
    });
    events.push({
      type: 'FundsReserved',
      timestamp: (at += 1n),
      sagaId: `s-${amount}~x`,
      participants: [0, 3],
      legs: legs(amount),
    });
    events.push({
      type: 'ReservationCommitted',
      timestamp: (at += 1n),
      sagaId: `s-${amount}~x`,
      legs: legs(amount),
    });
    events.push({
      type: 'ReservationReleased',
      timestamp: (at += 1n),
      sagaId: `r-${amount}~x`,
      legs: legs(amount),
      reason: 'refused',
    });
  }
  // Cross-shard holds closing: posted in part (with and without the post), in full, voided.
  const hold: ReservationLeg[] = [
    { side: 'debit', transfer: spec('h-1', 2n ** 64n, { pending: true, timeoutMs: 60_000 }) },
  ];
  events.push({
    type: 'ReservationCommitted',
    timestamp: (at += 1n),
    sagaId: 'h-1~x',
    legs: hold,
    amount: 2n ** 60n,
    resolution: { id: 'p-h1', metadata: { note: 'ünïcode' } },
  });
  events.push({
    type: 'ReservationCommitted',
    timestamp: (at += 1n),
    sagaId: 'h-2~x',
    legs: hold,
    amount: 7n,
  });
  events.push({
    type: 'ReservationCommitted',
    timestamp: (at += 1n),
    sagaId: 'h-3~x',
    legs: hold,
    resolution: { id: 'p-h3', metadata: null },
  });
  events.push({
    type: 'ReservationReleased',
    timestamp: (at += 1n),
    sagaId: 'h-4~x',
    legs: hold,
    reason: 'voided',
    resolution: { id: 'v-h4', metadata: null },
  });
  // A tombstone release (no legs) and a pending transfer with a timeout among them.
  events.push({
    type: 'ReservationReleased',
    timestamp: (at += 1n),
    sagaId: 'late~x',
    legs: [],
    reason: 'recovery',
  });
  events.push({
    type: 'TransferCreated',
    timestamp: at + 1n,
    transfer: spec('p-1', 5n, { pending: true, timeoutMs: 1000 }),
  });
  return events;
}

describe('event records', () => {
  it('round-trip every event type and amount, saga events included', () => {
    const events = sagaEvents();
    const decoded = decodeEventRecord(encodeEventRecord({ first: 17, events }));
    expect(decoded.first).toBe(17);
    expect(decoded.events).toEqual(events);
  });

  it('decode version-2 records, whose saga events were stored whole', () => {
    const events = sagaEvents().filter((event) => event.type !== 'TransferCreated');
    const packr = new Packr({
      useRecords: false,
      useBigIntExtension: true,
      moreTypes: true,
      structuredClone: false,
    });
    const emptyColumns = {
      ids: '',
      debits: '',
      credits: '',
      currencies: '',
      amounts: new Float64Array(0),
      bigAmounts: null,
      extras: null,
    };
    const v2 = packr.pack({
      v: 2,
      first: 5,
      count: events.length,
      base: BASE,
      transfers: emptyColumns,
      offsets: new Float64Array(0),
      others: events.map((event, index) => [index, event]),
    });
    expect(decodeEventRecord(v2).events).toEqual(events);
  });

  it('rejects an unknown record version as corrupt storage', () => {
    const packr = new Packr({ useRecords: false });
    expect(() => decodeEventRecord(packr.pack({ v: 9, first: 1 }))).toThrow(
      expect.objectContaining({ code: 'STORAGE_CORRUPT' }),
    );
  });
});

describe('plain runs', () => {
  it('find each of their transfers by binary search, and nothing else', () => {
    const specs = Array.from({ length: 301 }, (_, index) =>
      spec(`t-${String(index * 3).padStart(6, '0')}`, BigInt(1 + index)),
    );
    const builder = new TransferColumnsBuilder(specs.length);
    for (const transfer of specs) builder.add(transfer);
    const reader = new TransferColumnsReader(builder.build());
    const taken = specs.map((_, index) => index).filter((index) => index % 5 !== 2); // some columns were not in the lane
    const offsets = taken.map((index) => index * 2);
    const value = encodePlainRun(reader, taken, offsets, BASE);
    expect(lastIdOfPlainRun(value)).toBe(specs[taken[taken.length - 1] as number]?.id);
    for (const [at, index] of taken.entries()) {
      const transfer = specs[index] as TransferSpec;
      expect(findInPlainRun(value, transfer.id)).toEqual({
        id: transfer.id,
        kind: 'transfer',
        debitAccountId: 'acct-1',
        creditAccountId: 'acct-2',
        amount: transfer.amount,
        currency: 'USD',
        pending: false,
        timeoutMs: 0,
        metadata: null,
        timestamp: BASE + BigInt(offsets[at] as number),
        pendingId: null,
        state: 'posted',
        postedAmount: null,
        sagaId: null,
      });
    }
    for (const index of specs.keys())
      if (index % 5 === 2)
        expect(findInPlainRun(value, (specs[index] as TransferSpec).id)).toBeUndefined();
    for (const missing of ['t-000001', 't-', 'a', 'z', 't-999999'])
      expect(findInPlainRun(value, missing)).toBeUndefined();
    const corrupt = Buffer.from(value);
    corrupt[0] = 9;
    expect(() => findInPlainRun(corrupt, 't-000000')).toThrow(
      expect.objectContaining({ code: 'STORAGE_CORRUPT' }),
    );
  });
});

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
      type: 'ReleaseReservation',
      sagaId: 'h-3~x',
      reason: 'voided',
      resolution: { id: 'v-3', pendingId: 'h-3', amount: null, metadata: null },
    });
    commands.push({ type: 'ReleaseReservation', sagaId: 'h-3~x', reason: 'voided' });
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
