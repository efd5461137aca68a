// A checksum on every log record, so that a damaged record is refused (STORAGE_CORRUPT) instead
// of being decoded into other events. LMDB checks none of its data, and a flipped bit inside a
// record's columns would otherwise still decode, into a different amount or account.
//
// A checked record is the tag byte 0xc1, the CRC-32 of the payload (u32, little-endian), then
// the payload (the msgpack record). msgpack never uses 0xc1, so a record written before
// checksums (it starts with a msgpack map) is told apart by its first byte and read as before.
// CRC-32 (zlib's, native) detects every burst error up to 32 bits and costs about 0.1 to 0.2 ns
// per byte here, a few hundredths of a microsecond per transfer; a cryptographic hash would cost
// several times more and guard against nothing a shard's own file needs guarding against.

import { crc32 } from 'node:zlib';
import { LedgerError } from '../errors.js';

const CHECKED_TAG = 0xc1;
const HEADER_BYTES = 5;

/** The stored form of a record's payload: tag, CRC-32, payload (one copy of the payload). */
export function withChecksum(payload: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  framed[0] = CHECKED_TAG;
  framed.writeUInt32LE(crc32(payload), 1);
  framed.set(payload, HEADER_BYTES);
  return framed;
}

/** The payload of a stored record, checked; a record from before checksums as it is. Throws
 * STORAGE_CORRUPT when the checksum does not match. */
export function checkedPayload(stored: Uint8Array): Uint8Array {
  if (stored[0] !== CHECKED_TAG) return stored;
  if (stored.length < HEADER_BYTES) throw new LedgerError('STORAGE_CORRUPT', { problem: 'log record cut short' });
  const payload = stored.subarray(HEADER_BYTES);
  const expected = (stored[1] as number) | ((stored[2] as number) << 8) | ((stored[3] as number) << 16) | ((stored[4] as number) << 24);
  if (crc32(payload) !== expected >>> 0) throw new LedgerError('STORAGE_CORRUPT', { problem: 'log record checksum mismatch' });
  return payload;
}
