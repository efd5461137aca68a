// Goal: a column of values longer than one piece (column-text.ts) is cut into pieces of whole
// values, each under the bound, and every reader gets the exact values back: the split, the one-
// currency check, the ASCII check, a log record of 8,190 UUIDv4 transfers (written as version 5),
// a version-4 record of single strings, and a shard that replays such records after a reopen.
// Method: build columns and records, decode them, compare; reopen a real shard from its log.
import { randomUUID } from 'node:crypto';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  ColumnCursor,
  isAsciiColumn,
  joinColumn,
  pieceUnits,
  sameValue,
  splitColumn,
} from '../src/storage/column-text.js';
import { decodeEventRecord, encodeEventRecord } from '../src/storage/event-record.js';
import { CHECKSUM_PLACEHOLDER, sealChecksum } from '../src/storage/record-checksum.js';
import { TransferColumnsBuilder, TransferColumnsReader } from '../src/storage/transfer-columns.js';
import type { LedgerEvent } from '../src/index.js';
import { BASE, spec } from './fixtures/codec-fixtures.js';
import { account, countersOf, transfer, useEngines } from './fixtures/engine-fixtures.js';

const { dirs, openEngine } = useEngines('column-text-');

/** `count` UUIDv4 ids. */
const uuids = (count: number): string[] => Array.from({ length: count }, () => randomUUID());

describe('column text', () => {
  it('stays one string up to a piece, and is cut into pieces of whole values past it', () => {
    const short = ['a', 'bb', 'ccc'];
    expect(joinColumn(short)).toBe('a\nbb\nccc');
    expect(joinColumn([])).toBe('');
    const ids = uuids(8_190);
    const text = joinColumn(ids);
    expect(Array.isArray(text)).toBe(true);
    const pieces = text as readonly string[];
    expect(pieces.length).toBe(Math.ceil((8_190 * 37 - 1) / pieceUnits));
    for (const piece of pieces) expect(piece.length).toBeLessThanOrEqual(pieceUnits);
    expect(pieces.join('\n')).toBe(ids.join('\n'));
    expect(splitColumn(text, ids.length)).toEqual(ids);
    expect(splitColumn('', 0)).toEqual([]);
    expect(() => splitColumn(text, ids.length + 1)).toThrow();
  });

  it('keeps non-ASCII values whole and counts them as such', () => {
    // Two bytes per code unit at worst: a piece stays under the bound in units, not bytes.
    const values = Array.from({ length: 4_000 }, (_, index) => `ü-${'é'.repeat(40)}-${index}`);
    const text = joinColumn(values);
    expect(Array.isArray(text)).toBe(true);
    expect(splitColumn(text, values.length)).toEqual(values);
    expect(isAsciiColumn(text)).toBe(false);
    expect(isAsciiColumn(joinColumn(uuids(8_190)))).toBe(true);
    expect(isAsciiColumn(joinColumn(['a', 'ü']))).toBe(false);
  });

  it('finds the one value of a column across pieces, and null when any value differs', () => {
    const count = pieceUnits; // 'USD' x count is about four pieces
    const same = joinColumn(new Array<string>(count).fill('USD'));
    expect(Array.isArray(same)).toBe(true);
    expect(sameValue(same, count)).toBe('USD');
    expect(sameValue(same, count + 1)).toBeNull();
    const lastDiffers = new Array<string>(count).fill('USD');
    lastDiffers[count - 1] = 'EUR';
    expect(sameValue(joinColumn(lastDiffers), count)).toBeNull();
    const longer = new Array<string>(count).fill('USD');
    longer[count - 1] = 'USDC';
    expect(sameValue(joinColumn(longer), count)).toBeNull();
    expect(sameValue('', 0)).toBeNull();
  });

  it('reads the same values one at a time as split gives, across pieces, and no further', () => {
    const mixed = Array.from({ length: 5_000 }, (_, index) =>
      index % 3 === 0 ? `ü-${'é'.repeat(index % 50)}-${index}` : randomUUID(),
    );
    for (const values of [['one'], ['a', 'bb', 'ccc'], uuids(8_190), mixed]) {
      const text = joinColumn(values);
      const cursor = new ColumnCursor(text);
      const read = values.map(() => cursor.next());
      expect(read).toEqual(splitColumn(text, values.length));
      expect(() => cursor.next()).toThrow();
    }
  });
});

describe('log records of long columns', () => {
  it('round-trip 8,190 UUIDv4 transfers as version 5, columns in pieces', () => {
    const events: LedgerEvent[] = uuids(8_190).map((id, index) => ({
      type: 'TransferCreated',
      timestamp: BASE + BigInt(index),
      transfer: spec(id, BigInt(index + 1)),
    }));
    const encoded = encodeEventRecord({ first: 3, events });
    const raw = new Packr({ useRecords: false, useBigIntExtension: true, moreTypes: true }).unpack(
      encoded,
    ) as { v: number; transfers: { ids: unknown } };
    expect(raw.v).toBe(5);
    expect(Array.isArray(raw.transfers.ids)).toBe(true);
    expect(decodeEventRecord(encoded)).toEqual({ first: 3, events });
  });

  it('still decode version-4 records, whose columns are single strings', () => {
    const builder = new TransferColumnsBuilder(2);
    builder.add(spec('t-1', 5n));
    builder.add(spec('t-2', 7n));
    const columns = builder.build();
    expect(typeof columns.ids).toBe('string');
    const packr = new Packr({
      useRecords: false,
      useBigIntExtension: true,
      moreTypes: true,
      structuredClone: false,
    });
    const v4 = sealChecksum(
      packr.pack({
        crc: CHECKSUM_PLACEHOLDER,
        v: 4,
        first: 9,
        count: 2,
        base: BASE,
        transfers: columns,
        offsets: new Float64Array([0, 1]),
        others: [],
        sagas: [],
      }),
    );
    const decoded = decodeEventRecord(v4);
    expect(
      decoded.events.map((event) => event.type === 'TransferCreated' && event.transfer),
    ).toEqual(
      new TransferColumnsReader(columns).ids.map((_, column) =>
        new TransferColumnsReader(columns).spec(column),
      ),
    );
  });

  it('replay after a reopen: a shard rebuilds the balances and finds every transfer', async () => {
    const dir = await dirs.make();
    let engine = await openEngine(dir);
    await engine.submit([account('acct-1'), account('acct-2')]);
    const ids = uuids(8_190);
    const results = await engine.submit(
      ids.map((id, index) => transfer(id, 'acct-1', 'acct-2', BigInt(1 + (index % 7)))),
    );
    expect(results.every((result) => result.status === 'ok')).toBe(true);
    const before = countersOf((await engine.lookupAccounts(['acct-2']))[0]);
    await engine.close();
    engine = await openEngine(dir);
    expect(countersOf((await engine.lookupAccounts(['acct-2']))[0])).toEqual(before);
    const found = await engine.lookupTransfers([ids[0] as string, ids[8_189] as string]);
    expect(found.map((record) => record?.id)).toEqual([ids[0], ids[8_189]]);
    expect((await engine.verify()).ok).toBe(true);
  });
});
