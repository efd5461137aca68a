// Checks a shard's LMDB file before LMDB maps it. LMDB trusts its meta pages: a file shorter than
// the pages they name is mapped anyway and the first read past its end kills the process with
// SIGBUS, and a damaged meta page can send it through garbage pointers (SIGSEGV). Neither can be
// caught, so the file's size and meta pages are read with plain file reads first, and a damaged
// file is refused with STORAGE_CORRUPT naming the shard dir and the problem.
//
// Layout (liblmdb/mdb.c as vendored by lmdb-js: MDB_page_header, MDB_meta; little-endian,
// 64-bit page numbers and txn ids): pages 0 and 1 each hold a meta record after the 24-byte page
// header. With overlappingSync (which shards no longer use; files written by earlier builds may
// have it), lmdb-js also writes a "sync meta" (the last flushed transaction) from mm_mapsize on,
// at half a page into page 0, and LMDB considers it at open too.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { LedgerError } from '../errors.js';
import { limits } from '../limits.js';

const PAGE_HEADER_BYTES = 24;
const P_META = 0x08;
const MDB_MAGIC = 0xbeefc0de;
const MDB_DATA_VERSION = 2;
/** Offsets within a meta page (page header included): the page number and flags are in the page
 * header; the meta record (MDB_meta) follows it. */
const at = {
  pageNumber: 0,
  flags: 18,
  magic: PAGE_HEADER_BYTES,
  version: PAGE_HEADER_BYTES + 4,
  pageSize: PAGE_HEADER_BYTES + 24,
  lastPage: PAGE_HEADER_BYTES + 120,
  txnId: PAGE_HEADER_BYTES + 128,
} as const;
/** Bytes of a meta page that are read: through the txn id. */
const META_BYTES = at.txnId + 8;

interface Meta {
  readonly pageSize: number;
  readonly lastPage: bigint;
  readonly txnId: bigint;
}

function corrupt(dir: string, problem: string): LedgerError {
  return new LedgerError('STORAGE_CORRUPT', { dir, file: 'events.mdb', problem });
}

function readAt(fd: number, offset: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  const read = readSync(fd, buffer, 0, length, offset);
  return buffer.subarray(0, read);
}

/** The meta record of page `page` (0 or 1), or the problem that makes it unusable. */
function metaOf(bytes: Buffer, page: number): Meta | string {
  if (bytes.length < META_BYTES) return `meta page ${page} is cut short`;
  if (bytes.readBigUInt64LE(at.pageNumber) !== BigInt(page))
    return `meta page ${page} has page number ${bytes.readBigUInt64LE(at.pageNumber)}`;
  if ((bytes.readUInt16LE(at.flags) & P_META) === 0) return `page ${page} is not a meta page`;
  if (bytes.readUInt32LE(at.magic) !== MDB_MAGIC)
    return `meta page ${page} has no LMDB magic number`;
  const version = bytes.readUInt32LE(at.version) & 0xffff;
  if (version !== MDB_DATA_VERSION) return `meta page ${page} has LMDB data version ${version}`;
  const pageSize = bytes.readUInt32LE(at.pageSize);
  if (
    pageSize < limits.lmdbPageSizeBytesMin ||
    pageSize > limits.lmdbPageSizeBytesMax ||
    (pageSize & (pageSize - 1)) !== 0
  )
    return `meta page ${page} has page size ${pageSize}`;
  const lastPage = bytes.readBigUInt64LE(at.lastPage);
  if (lastPage < 1n) return `meta page ${page} names last page ${lastPage}`;
  return { pageSize, lastPage, txnId: bytes.readBigUInt64LE(at.txnId) };
}

/** Whether the file holds every page up to `meta`'s last one. */
function covers(sizeBytes: number, meta: Meta): boolean {
  return BigInt(sizeBytes) >= (meta.lastPage + 1n) * BigInt(meta.pageSize);
}

/**
 * Refuses, with STORAGE_CORRUPT, an events.mdb in `dir` that LMDB could not map safely: cut
 * short, or with a meta page that is not a valid LMDB meta. Both meta pages must be valid (LMDB
 * writes both when it creates the file): falling back to the older one would silently drop the
 * last committed transaction. A missing file, or one of 0 bytes, is left to the caller (LMDB
 * creates a new environment there; whether a ledger may have a new shard is not this file's
 * question).
 */
export function checkEnvFile(dir: string): void {
  let fd: number;
  try {
    fd = openSync(join(dir, 'events.mdb'), 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new LedgerError('IO_ERROR', {
      dir,
      file: 'events.mdb',
      problem: String((error as Error).message),
    });
  }
  try {
    if (fstatSync(fd).size === 0) return;
    const first = metaOf(readAt(fd, 0, META_BYTES), 0);
    if (typeof first === 'string') throw corrupt(dir, first);
    const second = metaOf(readAt(fd, first.pageSize, META_BYTES), 1);
    if (typeof second === 'string') throw corrupt(dir, second);
    if (second.pageSize !== first.pageSize)
      throw corrupt(
        dir,
        `meta pages disagree on the page size (${first.pageSize}, ${second.pageSize})`,
      );
    const live = second.txnId > first.txnId ? second : first;
    // The sync meta (no page header, magic or version of its own) counts only with a txn id.
    const sync = readAt(fd, first.pageSize / 2, META_BYTES);
    // The size after the metas: a live writer (one this open is about to fence out) may grow the
    // file meanwhile, and LMDB writes a commit's pages before the meta that names them.
    const sizeBytes = fstatSync(fd).size;
    if (!covers(sizeBytes, live)) {
      throw corrupt(
        dir,
        `the file has ${sizeBytes} bytes, its live meta page names ${live.lastPage + 1n} pages of ${live.pageSize} bytes`,
      );
    }
    if (sync.length === META_BYTES && sync.readBigUInt64LE(at.txnId) !== 0n) {
      const syncMeta: Meta = {
        pageSize: sync.readUInt32LE(at.pageSize),
        lastPage: sync.readBigUInt64LE(at.lastPage),
        txnId: sync.readBigUInt64LE(at.txnId),
      };
      if (syncMeta.pageSize !== first.pageSize)
        throw corrupt(dir, `the sync meta has page size ${syncMeta.pageSize}`);
      if (!covers(sizeBytes, syncMeta))
        throw corrupt(
          dir,
          `the file has ${sizeBytes} bytes, its sync meta names ${syncMeta.lastPage + 1n} pages`,
        );
    }
  } catch (error) {
    if (error instanceof LedgerError) throw error;
    throw new LedgerError('IO_ERROR', {
      dir,
      file: 'events.mdb',
      problem: String((error as Error).message),
    });
  } finally {
    closeSync(fd);
  }
}
