// Goal: event records round-trip every event exactly (amounts 0..2^128-1), records written by the
// previous layout (version 2) still decode, and a plain run (the lane's index entry) finds exactly
// its transfers. Method: encode, decode, compare; a version-2 record is packed by hand.
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { type TransferCreated, type TransferSpec } from '../src/index.js';
import {
  decodeEventRecord,
  encodeEventRecord,
  EventRecordBuilder,
  readEventRecord,
} from '../src/storage/event-record.js';
import { encodePlainRun, findInPlainRun, lastIdOfPlainRun } from '../src/storage/plain-run.js';
import { TransferColumnsBuilder, TransferColumnsReader } from '../src/storage/transfer-columns.js';
import { BASE, sagaEvents, spec } from './fixtures/codec-fixtures.js';

describe('event records', () => {
  it('round-trip every event type and amount, saga events included', () => {
    const events = sagaEvents();
    const decoded = decodeEventRecord(encodeEventRecord({ first: 17, events }));
    expect(decoded.first).toBe(17);
    expect(decoded.events).toEqual(events);
  });

  it("write the same bytes whether a batch's plain transfer comes as its column or as an event", () => {
    // The lane adds a batch's plain transfers by column; one it hands to the general path
    // comes back as a TransferCreated event. Either way, and whatever breaks the run of
    // columns (an event that differs from its column in any field, a column left out, a
    // transfer that is not plain), the record is the one encodeEventRecord writes.
    const specs = Array.from({ length: 12 }, (_, at) =>
      spec(`t-${String(at).padStart(3, '0')}`, BigInt(100 + at)),
    );
    const input = (): TransferColumnsReader => {
      const builder = new TransferColumnsBuilder(specs.length);
      for (const one of specs) builder.add(one);
      return new TransferColumnsReader(builder.build());
    };
    const cases: { event: number; spec?: TransferSpec; skip?: number }[] = [
      { event: 0 },
      { event: 4 },
      { event: 11 },
      { event: 4, spec: { ...(specs[4] as TransferSpec), amount: 7n } },
      { event: 4, spec: { ...(specs[4] as TransferSpec), creditAccountId: 'acct-9' } },
      { event: 4, spec: { ...(specs[4] as TransferSpec), metadata: { order: 'o-1' } } },
      { event: 4, spec: { ...(specs[4] as TransferSpec), pending: true, timeoutMs: 5_000 } },
      { event: 4, spec: { ...(specs[4] as TransferSpec), amount: 2n ** 60n } },
      { event: 6, skip: 2 },
    ];
    for (const { event, spec: changed, skip } of cases) {
      const reader = input();
      const builder = new EventRecordBuilder(9, BASE, reader, specs.length);
      const events: TransferCreated[] = [];
      let offset = 0;
      for (const [column, one] of specs.entries()) {
        if (column === skip) continue;
        const transfer = column === event ? (changed ?? one) : one;
        events.push({ type: 'TransferCreated', timestamp: BASE + BigInt(offset), transfer });
        if (column === event) builder.addEvent(events.at(-1) as TransferCreated);
        else builder.addInputTransfer(column, offset);
        offset += 1;
      }
      const encoded = builder.encode();
      expect(encoded.equals(encodeEventRecord({ first: 9, events }))).toBe(true);
      expect(decodeEventRecord(encoded).events).toEqual(events);
    }
  });

  it('build each event of a record when asked for, in any order, each time anew', () => {
    const events = sagaEvents();
    const reader = readEventRecord(encodeEventRecord({ first: 5, events }));
    expect(reader.first).toBe(5);
    expect(reader.count).toBe(events.length);
    for (let index = events.length - 1; index >= 0; index -= 1)
      expect(reader.event(index)).toEqual(events[index]);
    const transfer = events.findIndex((event) => event.type === 'TransferCreated');
    expect(transfer).toBeGreaterThanOrEqual(0);
    expect(reader.event(transfer)).not.toBe(reader.event(transfer));
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
