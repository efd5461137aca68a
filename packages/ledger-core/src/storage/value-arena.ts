// The arena that index values (transfer records, plain runs, history entries) are written into,
// and the reader that reads them back. These values are small fixed layouts written with Buffer
// methods rather than msgpackr: msgpackr costs ~0.9 µs per 13-field row, and they are written
// once per transfer. Numbers are little-endian; an unsigned 128-bit value is a tag byte, then a
// float64 (exact below 2^53) or two u64 halves; a string is its u16 UTF-8 byte length, then the
// bytes.

import { assert } from '../assert.js';
import { SAFE_BIG } from '../limits.js';
import { bufferView } from './sorted-ids.js';

/** Writes small values back to back into one large buffer per group commit. lmdb-js keeps a
 * pointer to a value's bytes (and a reference to its buffer) until the write commits, and honours
 * `start`/`end` on a Buffer, so every value of a batch shares one allocation: `take()` returns the
 * arena's buffer marked with the value's range, valid until the next call. */
export class ValueArena {
  private buffer: Buffer & { start?: number; end?: number; address?: number };
  private view: DataView;
  private offset = 0;
  private mark = 0;
  constructor(sizeBytes = 1 << 20) {
    // allocUnsafeSlow: not from the shared pool, so byteOffset is 0 as lmdb-js' start/end expects.
    this.buffer = Buffer.allocUnsafeSlow(sizeBytes);
    this.view = new DataView(this.buffer.buffer, 0, this.buffer.length);
  }
  private reserve(bytes: number): void {
    if (this.offset + bytes <= this.buffer.length) return;
    // Start a new buffer; the old one stays referenced by the writes that point into it.
    const pending = this.buffer.subarray(this.mark, this.offset);
    const grown = Buffer.allocUnsafeSlow(
      Math.max(this.buffer.length * 2, (this.offset - this.mark + bytes) * 2),
    );
    pending.copy(grown, 0);
    this.buffer = grown;
    this.view = new DataView(grown.buffer, 0, grown.length);
    this.offset -= this.mark;
    this.mark = 0;
  }
  /** Makes room for `bytes` bytes and returns where they start; the next write goes after them.
   * A caller takes `this.buffer` or `this.view` only after this call, which may replace both. */
  private claim(bytes: number): number {
    this.reserve(bytes);
    const at = this.offset;
    this.offset = at + bytes;
    return at;
  }
  u8(value: number): void {
    const at = this.claim(1);
    this.buffer[at] = value;
  }
  f64(value: number): void {
    const at = this.claim(8);
    this.view.setFloat64(at, value, true);
  }
  /** Unsigned up to 2^128-1: a tag byte, then 8 bytes (f64, exact below 2^53) or 16 bytes. */
  u128(value: bigint): void {
    if (value <= SAFE_BIG) {
      this.u8(0);
      this.f64(Number(value));
      return;
    }
    this.u8(1);
    const at = this.claim(16);
    this.view.setBigUint64(at, value & 0xffff_ffff_ffff_ffffn, true);
    this.view.setBigUint64(at + 8, value >> 64n, true);
  }
  i64(value: bigint): void {
    const at = this.claim(8);
    this.view.setBigInt64(at, value, true);
  }
  string(value: string): void {
    this.reserve(2 + value.length * 3);
    this.offset = this.putString(value, this.offset);
  }
  /** Writes u16 byte length + UTF-8 of `value` at `at` (space reserved); returns the end. */
  private putString(value: string, at: number): number {
    const length = value.length;
    const buffer = this.buffer;
    const start = at + 2;
    let ascii = true;
    // Ids are short and almost always ASCII: a byte loop beats the native utf8 write call.
    for (let index = 0; index < length; index += 1) {
      const unit = value.charCodeAt(index);
      if (unit > 0x7f) {
        ascii = false;
        break;
      }
      buffer[start + index] = unit;
    }
    const bytes = ascii ? length : buffer.write(value, start, 'utf8');
    buffer[at] = bytes & 0xff;
    buffer[at + 1] = bytes >>> 8;
    return start + bytes;
  }
  /** One plain-run entry (encodePlainRun): the id, then plainRecord's bytes. */
  plainEntry(
    id: string,
    timestampHigh: number,
    timestampLow: number,
    amount: number,
    debitAccountId: string,
    creditAccountId: string,
    currency: string,
  ): void {
    this.string(id);
    this.plainRecord(
      timestampHigh,
      timestampLow,
      amount,
      debitAccountId,
      creditAccountId,
      currency,
    );
  }
  /** writeTransferRecord's bytes for a posted transfer that is not pending and has no optional
   * fields, from its fields (no record object), with one bounds check for the whole record
   * instead of one per field. The timestamp is high * 2^32 + low, so that no bigint is built per
   * record. */
  plainRecord(
    timestampHigh: number,
    timestampLow: number,
    amount: number,
    debitAccountId: string,
    creditAccountId: string,
    currency: string,
  ): void {
    this.reserve(33 + 3 * (debitAccountId.length + creditAccountId.length + currency.length));
    const buffer = this.buffer;
    const view = this.view;
    const at = this.offset;
    buffer[at] = 0; // kind 'transfer' (0), state 'posted' (0), not pending
    buffer[at + 1] = 0; // no optional fields
    view.setUint32(at + 2, timestampLow, true);
    view.setInt32(at + 6, timestampHigh, true);
    view.setFloat64(at + 10, 0, true); // timeoutMs
    buffer[at + 18] = 0; // u128 tag: exact f64
    view.setFloat64(at + 19, amount, true);
    let end = this.putString(debitAccountId, at + 27);
    end = this.putString(creditAccountId, end);
    this.offset = this.putString(currency, end);
  }
  /** Leaves `bytes` bytes for a header that setU8 / setU32 fill in once the body is written. */
  leaveRoom(bytes: number): void {
    this.claim(bytes);
  }
  /** Writes a u8 at `at` bytes past the last take() (into space written or left by leaveRoom). */
  setU8(at: number, value: number): void {
    assert(this.mark + at + 1 <= this.offset, 'setU8 within the pending value');
    this.buffer[this.mark + at] = value;
  }
  /** Writes a u32 at `at` bytes past the last take() (into space written or left by leaveRoom). */
  setU32(at: number, value: number): void {
    assert(this.mark + at + 4 <= this.offset, 'setU32 within the pending value');
    this.view.setUint32(this.mark + at, value, true);
  }
  /** The value written since the last take(), as a view of the arena's buffer (no copy): the
   * arena must not be written again while the view is in use. */
  takeView(): Buffer {
    const view = this.buffer.subarray(this.mark, this.offset);
    this.mark = this.offset;
    return view;
  }
  /** The value written since the last take(), as the arena buffer with start/end set. */
  take(): Buffer {
    const buffer = this.buffer;
    buffer.start = this.mark;
    buffer.end = this.offset;
    this.mark = this.offset;
    return buffer;
  }
  /** Bytes written since the last take(). */
  get pendingBytes(): number {
    return this.offset - this.mark;
  }
  /** A standalone copy of the value written since the last take() (for tests and one-offs). */
  takeCopy(): Buffer {
    const copy = Buffer.from(this.buffer.subarray(this.mark, this.offset));
    this.mark = this.offset;
    return copy;
  }
}

/** Reads back what a ValueArena wrote, value by value, in the order written. */
export class ValueReader {
  private readonly view: Buffer;
  private offset = 0;
  constructor(bytes: Uint8Array) {
    this.view = bufferView(bytes);
  }
  /** Returns where the next `bytes` bytes start, and moves past them. */
  private skip(bytes: number): number {
    const at = this.offset;
    this.offset = at + bytes;
    return at;
  }
  u8(): number {
    return this.view[this.skip(1)] as number;
  }
  f64(): number {
    return this.view.readDoubleLE(this.skip(8));
  }
  u128(): bigint {
    if (this.u8() === 0) return BigInt(this.f64());
    const at = this.skip(16);
    const low = this.view.readBigUInt64LE(at);
    const high = this.view.readBigUInt64LE(at + 8);
    return (high << 64n) | low;
  }
  i64(): bigint {
    return this.view.readBigInt64LE(this.skip(8));
  }
  string(): string {
    const bytes = this.view.readUInt16LE(this.offset);
    const at = this.skip(2 + bytes);
    return this.view.toString('utf8', at + 2, at + 2 + bytes);
  }
}
