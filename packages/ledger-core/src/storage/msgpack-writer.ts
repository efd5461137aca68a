// A msgpack writer for the few shapes the hot path packs itself (saga tuples): arrays, numbers,
// null and ASCII strings, written byte for byte as msgpackr 1.12.1 writes them with our options
// (useRecords: false, no useFloat32): minimal array and string headers, integers up to 32 bits
// in their shortest form (0..127 as a positive fixint), any other number as a float64.
//
// Why not msgpackr: its one `pack` function is shared by every Packr of the process (lmdb-js'
// encoders included), and in the engine its `value.charCodeAt` site sees so many kinds of strings
// that packing a saga event cost ~5-10 µs there against ~1 µs in a process that packs nothing
// else (saga-engine-probe, CPU profile: half of a saga step's CPU on that one line).
//
// Anything outside this subset (a non-ASCII string, a bigint, an object) makes the caller fall
// back to msgpackr, so the bytes never depend on which path wrote them.

import { assert } from '../assert.js';

const charCodeAt = String.prototype.charCodeAt;

/** Writes into one buffer, sized up front by the caller (an upper bound: `numberBytesMax` per
 * number, `stringBytesMax(value)` per string, `headerBytesMax` per array and 1 per null). */
export class MsgpackWriter {
  static readonly numberBytesMax = 9;
  static readonly headerBytesMax = 5;
  static stringBytesMax(value: string): number {
    return 5 + value.length;
  }

  readonly buffer: Buffer;
  private readonly view: DataView;
  offset: number;

  constructor(sizeBytes: number) {
    // allocUnsafeSlow: a buffer of its own (lmdb-js keeps a reference to a value until commit).
    this.buffer = Buffer.allocUnsafeSlow(sizeBytes);
    this.view = new DataView(this.buffer.buffer, 0, sizeBytes);
    this.offset = 0;
  }

  arrayHeader(length: number): void {
    const buffer = this.buffer;
    let at = this.offset;
    if (length < 0x10) {
      buffer[at++] = 0x90 | length;
    } else if (length < 0x10000) {
      buffer[at++] = 0xdc;
      buffer[at++] = length >> 8;
      buffer[at++] = length & 0xff;
    } else {
      buffer[at++] = 0xdd;
      this.view.setUint32(at, length);
      at += 4;
    }
    this.offset = at;
  }

  /** Raw bytes (already msgpack), e.g. the start of a value msgpackr packed. */
  raw(bytes: Uint8Array): void {
    this.buffer.set(bytes, this.offset);
    this.offset += bytes.length;
  }

  nil(): void {
    this.buffer[this.offset] = 0xc0;
    this.offset += 1;
  }

  number(value: number): void {
    const buffer = this.buffer;
    let at = this.offset;
    if (value >>> 0 === value) {
      if (value < 0x80) {
        buffer[at++] = value;
      } else if (value < 0x100) {
        buffer[at++] = 0xcc;
        buffer[at++] = value;
      } else if (value < 0x10000) {
        buffer[at++] = 0xcd;
        buffer[at++] = value >> 8;
        buffer[at++] = value & 0xff;
      } else {
        buffer[at++] = 0xce;
        this.view.setUint32(at, value);
        at += 4;
      }
    } else if (value >> 0 === value) {
      if (value >= -0x20) {
        buffer[at++] = 0x100 + value;
      } else if (value >= -0x80) {
        buffer[at++] = 0xd0;
        buffer[at++] = value + 0x100;
      } else if (value >= -0x8000) {
        buffer[at++] = 0xd1;
        this.view.setInt16(at, value);
        at += 2;
      } else {
        buffer[at++] = 0xd2;
        this.view.setInt32(at, value);
        at += 4;
      }
    } else {
      buffer[at++] = 0xcb;
      this.view.setFloat64(at, value);
      at += 8;
    }
    this.offset = at;
  }

  /** Writes `value` if it is ASCII (its length is then its byte length) and returns true; returns
   * false at its first non-ASCII code unit, leaving the writer unusable (the caller falls back). */
  ascii(value: string): boolean {
    const buffer = this.buffer;
    const length = value.length;
    let at = this.offset;
    if (length < 0x20) {
      buffer[at++] = 0xa0 | length;
    } else if (length < 0x100) {
      buffer[at++] = 0xd9;
      buffer[at++] = length;
    } else if (length < 0x10000) {
      buffer[at++] = 0xda;
      buffer[at++] = length >> 8;
      buffer[at++] = length & 0xff;
    } else {
      buffer[at++] = 0xdb;
      this.view.setUint32(at, length);
      at += 4;
    }
    for (let index = 0; index < length; index += 1) {
      const unit: number = charCodeAt.call(value, index);
      if (unit > 0x7f) return false;
      buffer[at + index] = unit;
    }
    this.offset = at + length;
    return true;
  }

  /** The bytes written, [0, offset). */
  finish(): Buffer {
    assert(this.offset <= this.buffer.length, 'msgpack writer within its size bound');
    return this.buffer.subarray(0, this.offset);
  }
}
