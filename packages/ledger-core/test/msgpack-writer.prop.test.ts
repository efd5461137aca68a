// Goal: the saga tuples the engine writes itself (msgpack-writer.ts, saga-writer.ts writeSagaEvents
// and writeSagaCommands) are byte for byte what msgpackr packs with our options, so log records
// and command batches are the same bytes whichever path wrote them; anything outside the writer's
// subset falls back to msgpackr. Method: fast-check (seed 42) over saga events and commands with
// edge-case numbers and strings, compared with a Packr configured as codec.ts and batch-codec.ts
// configure theirs; then whole records and batches round-trip.
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { type Command, type LedgerEvent, type ReservationLeg } from '../src/index.js';
import { decodeCommandBatch, encodeCommandBatch } from '../src/storage/batch-codec.js';
import { decodeEventRecord, encodeEventRecord } from '../src/storage/event-record.js';
import { MsgpackWriter } from '../src/storage/msgpack-writer.js';
import { CHECKSUM_PLACEHOLDER } from '../src/storage/record-checksum.js';
import {
  sagaCommandToTuple,
  sagaEventToTuple,
  type SagaCommand,
  type SagaEvent,
} from '../src/storage/saga-codec.js';
import { writeSagaCommands, writeSagaEvents } from '../src/storage/saga-writer.js';

const packr = new Packr({
  useRecords: false,
  useBigIntExtension: true,
  moreTypes: true,
  structuredClone: false,
});
const SEED = 42;
const BASE = 1_700_000_000_000_000_000n;
const NONE = new Uint8Array(0);

const edgeNumbers = [
  0,
  1,
  0x7f,
  0x80,
  0xff,
  0x100,
  0xffff,
  0x10000,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 53 - 1,
  -1,
  -0x20,
  -0x21,
  -0x80,
  -0x81,
  -0x8000,
  -0x8001,
  2 ** 31,
  -(2 ** 31),
  0.5,
];
const number = fc.oneof(
  fc.constantFrom(...edgeNumbers),
  fc.nat({ max: 2 ** 53 - 1 }),
  fc.integer(),
);
/** As `number`, plus -0 (msgpackr writes it as 0, so it is left out where values round-trip). */
const anyNumber = fc.oneof(number, fc.constant(-0));
// What falls outside the writer's subset (a string not ASCII, an amount above 2^53-1, metadata) is
// rare per field, so that about half of the generated arrays take each path.
const RARE = 1;
const COMMON = 400;
/** Mostly ASCII, of every header length (fixstr, str8, str16, str32); rarely not ASCII. */
const text = fc.oneof(
  { weight: COMMON, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 40 }) },
  {
    weight: 20,
    arbitrary: fc
      .constantFrom(31, 32, 255, 256, 65_535, 65_536)
      .map((length) => 'x'.repeat(length)),
  },
  {
    weight: RARE,
    arbitrary: fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: 8 })
      // eslint-disable-next-line no-control-regex -- the ASCII range, control characters included
      .filter((value) => /[^\x00-\x7f]/.test(value)),
  },
);
const amount = fc.oneof(
  { weight: COMMON, arbitrary: fc.bigInt({ min: 0n, max: 2n ** 53n - 1n }) },
  { weight: RARE, arbitrary: fc.bigInt({ min: 2n ** 53n, max: 2n ** 128n - 1n }) },
);
const leg = fc.record({
  side: fc.constantFrom('debit' as const, 'credit' as const),
  transfer: fc.record({
    id: text,
    debitAccountId: text,
    creditAccountId: text,
    amount,
    currency: fc.oneof(
      { weight: 10, arbitrary: fc.constant('USD') },
      { weight: 1, arbitrary: text },
    ),
    pending: fc.boolean(),
    timeoutMs: fc.nat({ max: 2 ** 40 }),
    metadata: fc.oneof(
      { weight: COMMON, arbitrary: fc.constant(null) },
      { weight: RARE, arbitrary: fc.constant({ note: 'x' }) },
    ),
  }),
}) as fc.Arbitrary<ReservationLeg>;
const legs = fc.array(leg, { minLength: 0, maxLength: 3 });
const participants = fc.array(number, { maxLength: 20 });

const sagaEvent: fc.Arbitrary<SagaEvent> = fc
  .oneof(
    fc.record({
      type: fc.constant('FundsReserved' as const),
      offset: fc.nat({ max: 2 ** 53 - 1 }),
      sagaId: text,
      participants,
      legs,
    }),
    fc.record({
      type: fc.constant('ReservationCommitted' as const),
      offset: fc.nat(),
      sagaId: text,
      legs,
    }),
    fc.record({
      type: fc.constant('ReservationReleased' as const),
      offset: fc.nat(),
      sagaId: text,
      legs,
      reason: text,
    }),
  )
  .map(({ offset, ...rest }) => ({ ...rest, timestamp: BASE + BigInt(offset) }) as SagaEvent);

const sagaCommand: fc.Arbitrary<SagaCommand> = fc.oneof(
  fc.record({
    type: fc.constant('ReserveFunds' as const),
    sagaId: text,
    participants,
    legs: fc.array(leg, { minLength: 1, maxLength: 3 }),
  }),
  fc.record({ type: fc.constant('CommitReservation' as const), sagaId: text }),
  fc.record({ type: fc.constant('ReleaseReservation' as const), sagaId: text, reason: text }),
);

/** Whether every string is ASCII, no leg has metadata and every amount is below 2^53. */
function inSubset(items: readonly (SagaEvent | SagaCommand)[]): boolean {
  // eslint-disable-next-line no-control-regex -- the ASCII range, control characters included
  const ascii = (value: string): boolean => /^[\x00-\x7f]*$/.test(value);
  return items.every(
    (item) =>
      ascii(item.sagaId) &&
      (!('reason' in item) || ascii(item.reason)) &&
      (!('legs' in item) ||
        item.legs.every(
          ({ transfer }) =>
            transfer.metadata === null &&
            transfer.amount < 2n ** 53n &&
            [
              transfer.id,
              transfer.debitAccountId,
              transfer.creditAccountId,
              transfer.currency,
            ].every(ascii),
        )),
  );
}

const options = { seed: SEED, numRuns: 300, verbose: true } as const;

/** How often each path was taken, so a test can check that it covered both. */
function pathCounter(): { fast: number; fallback: number; check(): void } {
  return {
    fast: 0,
    fallback: 0,
    check() {
      expect(this.fast).toBeGreaterThan(50);
      expect(this.fallback).toBeGreaterThan(10);
    },
  };
}

describe('MsgpackWriter (msgpack-writer.ts)', () => {
  it('writes numbers, ASCII strings, arrays and null exactly as msgpackr packs them', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            anyNumber,
            fc.string({ unit: 'binary-ascii', maxLength: 300 }),
            fc.constant(null),
          ),
          { maxLength: 70_000 },
        ),
        (items) => {
          let size = MsgpackWriter.headerBytesMax;
          for (const item of items)
            size +=
              typeof item === 'string'
                ? MsgpackWriter.stringBytesMax(item)
                : MsgpackWriter.numberBytesMax;
          const writer = new MsgpackWriter(size);
          writer.arrayHeader(items.length);
          for (const item of items) {
            if (item === null) writer.nil();
            else if (typeof item === 'number') writer.number(item);
            else expect(writer.ascii(item)).toBe(true);
          }
          expect(Buffer.compare(writer.finish(), packr.pack(items))).toBe(0);
        },
      ),
      { ...options, numRuns: 60 },
    );
  });

  it('declines a string that is not ASCII', () => {
    expect(new MsgpackWriter(16).ascii('café')).toBe(false);
    expect(new MsgpackWriter(16).ascii('\u{1F600}')).toBe(false);
  });
});

describe('saga tuples written without msgpackr (saga-writer.ts)', () => {
  it('writes saga events as msgpackr packs their tuples, or declines outside its subset', () => {
    const paths = pathCounter();
    fc.assert(
      fc.property(fc.array(sagaEvent, { maxLength: 20 }), (events) => {
        const positions = events.map((_, index) => index * 3);
        const written = writeSagaEvents(NONE, positions, events, BASE);
        if (!inSubset(events)) {
          paths.fallback += 1;
          expect(written).toBeNull();
          return;
        }
        paths.fast += 1;
        expect(written).not.toBeNull();
        const expected = packr.pack(
          events.map((event, index) => [positions[index], sagaEventToTuple(event, BASE)]),
        );
        expect(Buffer.compare(written as Buffer, expected)).toBe(0);
      }),
      options,
    );
    paths.check();
  });

  it('writes saga commands as msgpackr packs their tuples, or declines outside its subset', () => {
    const paths = pathCounter();
    fc.assert(
      fc.property(fc.array(sagaCommand, { maxLength: 20 }), (commands) => {
        const positions = commands.map((_, index) => index * 2 + 1);
        const written = writeSagaCommands(NONE, positions, commands);
        if (!inSubset(commands)) {
          paths.fallback += 1;
          expect(written).toBeNull();
          return;
        }
        paths.fast += 1;
        expect(written).not.toBeNull();
        const expected = packr.pack(
          commands.map((command, index) => [positions[index], sagaCommandToTuple(command)]),
        );
        expect(Buffer.compare(written as Buffer, expected)).toBe(0);
      }),
      options,
    );
    paths.check();
  });

  it('gives event records that are msgpackr bytes and decode to their events, on either path', () => {
    fc.assert(
      fc.property(fc.array(sagaEvent, { minLength: 1, maxLength: 20 }), (generated) => {
        // Timestamps ascend from the record base, as the engine writes them.
        const events: LedgerEvent[] = generated.map((event, index) => ({
          ...event,
          timestamp: BASE + BigInt(index),
        }));
        events.push({
          type: 'AccountCreated',
          timestamp: BASE + BigInt(events.length),
          account: { id: 'acct-1', currency: 'USD', scale: 2, flags: 0, metadata: null },
        });
        const bytes = encodeEventRecord({ first: 7, events });
        // The bytes are msgpackr's own for the value they hold, the checksum field aside (it is
        // packed as a fixed-width placeholder and filled in place afterwards)...
        const value = packr.unpack(bytes) as { crc: number };
        expect(Number.isInteger(value.crc)).toBe(true);
        const repacked = packr.pack({ ...value, crc: CHECKSUM_PLACEHOLDER });
        const payloadAt = 12;
        expect(Buffer.compare(bytes.subarray(payloadAt), repacked.subarray(payloadAt))).toBe(0);
        // ...and that value holds the events (metadata frozen on decode, as before).
        expect(decodeEventRecord(bytes)).toEqual({ first: 7, events });
      }),
      { ...options, numRuns: 150 },
    );
  });

  it('gives command batches that are msgpackr bytes and decode to their commands, on either path', () => {
    fc.assert(
      fc.property(fc.array(sagaCommand, { minLength: 1, maxLength: 20 }), (commands) => {
        const transfer = {
          id: 't-1',
          debitAccountId: 'a',
          creditAccountId: 'b',
          amount: 5n,
          currency: 'USD',
          pending: false,
          timeoutMs: 0,
          metadata: null,
        };
        const batch: Command[] = [...commands, { type: 'CreateTransfer', transfer }];
        const bytes = encodeCommandBatch(batch);
        expect(Buffer.compare(Buffer.from(bytes), packr.pack(packr.unpack(bytes)))).toBe(0);
        expect(decodeCommandBatch(bytes)).toEqual(batch);
      }),
      { ...options, numRuns: 150 },
    );
  });
});
