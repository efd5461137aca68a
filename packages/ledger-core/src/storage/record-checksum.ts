// A checksum on every log record, so that a damaged record is refused (STORAGE_CORRUPT) instead
// of being decoded into other events. LMDB checks none of its data, and a flipped bit inside a
// record's columns would otherwise still decode, into a different amount or account.
//
// The checksum is the record's first field, `crc`, packed as a placeholder (msgpack uint32, a
// fixed 5 bytes) and filled in place once the rest is packed: the CRC-32 of every byte after it.
// In place, because a record is hundreds of KiB: copying it behind a separate header cost more
// (fresh pages of a new buffer) than the checksum itself. CRC-32 (zlib's, native) detects every
// burst error up to 32 bits, at about 20 to 30 ns per transfer here. Records of versions 2
// and 3 have no `crc` field and are read unchecked.

import { crc32 } from 'node:zlib';
import { assert } from '../assert.js';
import { LedgerError } from '../errors.js';

/** What a record packed with `crc: CHECKSUM_PLACEHOLDER` first starts with: a map16 of 9 fields
 * (msgpackr writes objects as map16), the key "crc", the uint32 tag. */
const HEADER = [0xde, 0x00, 0x09, 0xa3, 0x63, 0x72, 0x63, 0xce] as const;
const CRC_AT = HEADER.length;
const PAYLOAD_AT = CRC_AT + 4;
export const CHECKSUM_PLACEHOLDER = 0xffff_ffff;

/** Whether `stored` starts with a checksum field. */
export function hasChecksum(stored: Uint8Array): boolean {
  if (stored.length < PAYLOAD_AT) return false;
  for (let index = 0; index < HEADER.length; index += 1)
    if (stored[index] !== HEADER[index]) return false;
  return true;
}

function readCrc(stored: Uint8Array): number {
  return (
    (((stored[CRC_AT] as number) << 24) |
      ((stored[CRC_AT + 1] as number) << 16) |
      ((stored[CRC_AT + 2] as number) << 8) |
      (stored[CRC_AT + 3] as number)) >>>
    0
  );
}

/** Fills in, in place, the checksum of a record packed with `crc: CHECKSUM_PLACEHOLDER` as its
 * first field; returns it. */
export function sealChecksum(packed: Buffer): Buffer {
  assert(hasChecksum(packed), 'a record to seal starts with its checksum field');
  assert(readCrc(packed) === CHECKSUM_PLACEHOLDER, 'a record is sealed once');
  packed.writeUInt32BE(crc32(packed.subarray(PAYLOAD_AT)), CRC_AT);
  return packed;
}

/** Throws STORAGE_CORRUPT when `stored` has a checksum field that does not match its bytes. */
export function checkChecksum(stored: Uint8Array): void {
  if (!hasChecksum(stored)) return;
  if (crc32(stored.subarray(PAYLOAD_AT)) !== readCrc(stored))
    throw new LedgerError('STORAGE_CORRUPT', { problem: 'log record checksum mismatch' });
}
