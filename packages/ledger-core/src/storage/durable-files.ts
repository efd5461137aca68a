// Small files written so that a crash leaves the old file or the new one, never a torn one, and
// deletions that survive a power cut: the fsync of the directory that makes a rename or unlink
// durable. Used by the snapshots here and by the data dir's manifest (shard-router).

import { open, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Makes a file written with plain writes durable (an fsync through a read-only handle). */
export async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes the directory's entries (renames, creations, unlinks) durable: the same fsync, of the
 * directory itself. */
export function syncDir(dir: string): Promise<void> {
  return syncFile(dir);
}

/** Buffers per writev call: under every platform's IOV_MAX (1,024 on Linux). */
const buffersPerWrite = 512;

/** Writes `path` through `<path>.tmp`: written, fsynced, renamed, then the directory fsynced.
 * `data` may be a list of buffers (a snapshot's slices), written as they are with vectored
 * writes: joining tens of MB into one buffer first stopped the writing thread for as long as
 * the copy took. */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array | readonly Uint8Array[],
): Promise<void> {
  const temporary = `${path}.tmp`;
  const handle = await open(temporary, 'w');
  try {
    if (typeof data === 'string' || data instanceof Uint8Array) await handle.writeFile(data);
    else await writeAll(handle, data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
  await syncDir(dirname(path));
}

/** Writes every byte of `buffers`, in order, from the file's start; a short write goes on from
 * where it stopped. */
async function writeAll(handle: FileHandle, buffers: readonly Uint8Array[]): Promise<void> {
  let position = 0;
  for (let first = 0; first < buffers.length; first += buffersPerWrite) {
    let group = buffers.slice(first, first + buffersPerWrite).filter((buffer) => buffer.length > 0);
    while (group.length > 0) {
      const { bytesWritten } = await handle.writev(group, position);
      position += bytesWritten;
      group = afterWritten(group, bytesWritten);
    }
  }
}

/** What is left of `buffers` once their first `written` bytes are written. */
export function afterWritten(buffers: readonly Uint8Array[], written: number): Uint8Array[] {
  let skipped = written;
  let at = 0;
  while (at < buffers.length && skipped >= (buffers[at] as Uint8Array).length) {
    skipped -= (buffers[at] as Uint8Array).length;
    at += 1;
  }
  const left = buffers.slice(at);
  if (skipped > 0) left[0] = (left[0] as Uint8Array).subarray(skipped);
  return left;
}
