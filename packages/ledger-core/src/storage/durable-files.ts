// Small files written so that a crash leaves the old file or the new one, never a torn one, and
// deletions that survive a power cut: the fsync of the directory that makes a rename or unlink
// durable. Used by the snapshots here and by the data dir's manifest (shard-router).

import { open, rename } from 'node:fs/promises';
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

/** Writes `path` through `<path>.tmp`: written, fsynced, renamed, then the directory fsynced. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temporary = `${path}.tmp`;
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
  await syncDir(dirname(path));
}
