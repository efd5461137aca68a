// One process at a time per data dir: `<dir>/LOCK` holds the owner's pid. Two processes writing
// one LMDB log through two ledgers would each trust their own in-memory state, so a second open
// must fail (DIR_LOCKED) while the owner lives. A lock left by a dead owner (kill -9, power loss)
// is taken over, because crash recovery must need no manual action.
//
// A pid alone does not name a process for long: Linux hands out pids (and thread ids, which
// kill(pid, 0) accepts too) from one small space, 32,768 by default, so the pid of a killed owner
// soon names some other live process or thread, and its lock would look held forever. Where
// /proc exists, LOCK also holds the owner's start time (field 22 of /proc/<pid>/stat, in clock
// ticks since boot): a live pid with another start time is a stranger, and the lock is stale.
// LOCK files of older builds (a pid only) are judged by the pid alone, as they were.
//
// The lock file is created complete: the pid goes into a private temp file (opened 'wx', i.e.
// O_CREAT|O_EXCL) which is then hard-linked to LOCK. link() fails with EEXIST when LOCK exists,
// exactly like O_EXCL, but no reader can ever see an empty LOCK of an owner that is mid-write.

import { readFileSync } from 'node:fs';
import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { LedgerError } from '@shardledger/ledger-core';

export const lockFileName = 'LOCK';
/** Tries to take over stale locks before giving up; each try loses only to a live racer. */
const acquireAttemptsMax = 8;

/** Dirs locked by this process: a LOCK with our own pid that is not in here is a stale lock of a
 * dead process whose pid was reused (common in containers), not ours. */
const heldPaths = new Set<string>();

export interface DirLock {
  readonly path: string;
  readonly pid: number;
  /** Removes LOCK if it is still ours. Idempotent. */
  release(): Promise<void>;
}

/** Takes the exclusive lock of `dir` (which must exist). Throws DIR_LOCKED when a live process
 * (this one included) holds it. */
export async function acquireDirLock(dir: string): Promise<DirLock> {
  const path = join(dir, lockFileName);
  if (heldPaths.has(path)) throw new LedgerError('DIR_LOCKED', { dir, pid: process.pid });
  const ownStart = processStartTime(process.pid);
  const content = ownStart === undefined ? `${process.pid}\n` : `${process.pid} ${ownStart}\n`;
  for (let attempt = 0; attempt < acquireAttemptsMax; attempt++) {
    if (await createLockFile(path, content)) return heldLock(path);
    const owner = await readOwner(path);
    if (owner === undefined) continue; // Released meanwhile: try again.
    if (heldPaths.has(path)) throw new LedgerError('DIR_LOCKED', { dir, pid: process.pid });
    // Our own pid without a heldPaths entry: a dead predecessor whose pid was reused.
    if (owner !== null && owner.pid !== process.pid && isOwnerAlive(owner)) {
      throw new LedgerError('DIR_LOCKED', { dir, pid: owner.pid });
    }
    await removeStaleLock(path, owner);
  }
  throw new LedgerError('DIR_LOCKED', { dir, problem: 'lost every race for a stale lock' });
}

function heldLock(path: string): DirLock {
  heldPaths.add(path);
  let released = false;
  return {
    path,
    pid: process.pid,
    async release(): Promise<void> {
      if (released) return;
      released = true;
      heldPaths.delete(path);
      if ((await readOwner(path))?.pid === process.pid) await unlink(path).catch(ignoreMissing);
    },
  };
}

/** True when this call created `path` with `content`; false when it already exists. */
async function createLockFile(path: string, content: string): Promise<boolean> {
  const tmpPath = `${path}.${process.pid}.tmp`;
  const file = await open(tmpPath, 'w');
  try {
    await file.writeFile(content, 'utf8');
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await link(tmpPath, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new LedgerError('IO_ERROR', { path, problem: String((error as Error).message) });
  } finally {
    await unlink(tmpPath).catch(ignoreMissing);
  }
}

/** Who a lock file names. */
interface LockOwner {
  readonly pid: number;
  /** Start time in clock ticks since boot; undefined in a LOCK written without /proc. */
  readonly start: string | undefined;
}

/** The owner named in the lock file; null if it names no valid pid; undefined if there is no
 * file. */
async function readOwner(path: string): Promise<LockOwner | null | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const [pidText, start] = text.trim().split(' ');
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0 || String(pid) !== pidText) return null;
  return { pid, start: start !== undefined && /^\d+$/.test(start) ? start : undefined };
}

function sameOwner(a: LockOwner, b: LockOwner | null): boolean {
  return b !== null && a.pid === b.pid && a.start === b.start;
}

/** Moves the stale lock aside and deletes it, unless a racer replaced it with a live lock between
 * our read and the rename: then that lock is put back (link fails only if yet another racer
 * already holds LOCK again, which is just as good). */
async function removeStaleLock(path: string, stale: LockOwner | null): Promise<void> {
  const asidePath = `${path}.${process.pid}.stale`;
  try {
    await rename(path, asidePath);
  } catch (error) {
    ignoreMissing(error);
    return;
  }
  const moved = await readOwner(asidePath);
  if (moved !== undefined && moved !== null && !sameOwner(moved, stale) && isOwnerAlive(moved)) {
    await link(asidePath, path).catch(() => undefined);
  }
  await unlink(asidePath).catch(ignoreMissing);
}

/** Whether the lock's owner still runs: its pid is alive and, where both start times are
 * known, started when the owner did. */
function isOwnerAlive(owner: LockOwner): boolean {
  if (!isProcessAlive(owner.pid)) return false;
  if (owner.start === undefined) return true;
  const start = processStartTime(owner.pid);
  return start === undefined || start === owner.start;
}

/** Field 22 of /proc/<pid>/stat (start time, clock ticks since boot); undefined without procfs
 * or when the process is gone. */
export function processStartTime(pid: number): string | undefined {
  const start = procStatFields(pid)?.[22 - 3];
  return start !== undefined && /^\d+$/.test(start) ? start : undefined;
}

/** The fields of /proc/<pid>/stat from field 3 (state) on; undefined without procfs or when the
 * process is gone. "pid (comm) state ...": comm may hold spaces or parens, so they are counted
 * from the last ')'. */
function procStatFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Whether `pid` names a live process. EPERM means it exists under another user. A zombie (dead
 * but not yet reaped by its parent) counts as dead. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  // No procfs (macOS) or the process just went away: trust kill(0).
  return procStatFields(pid)?.[0] === 'Z';
}

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}
