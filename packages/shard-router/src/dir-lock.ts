// One process at a time per data dir. Two processes writing one LMDB log through two ledgers
// would each trust their own in-memory state, so a second open must fail (DIR_LOCKED) while the
// owner lives, and a lock left by a dead owner (kill -9, power loss, a stopped container) must be
// taken with no manual step, because crash recovery needs none.
//
// The lock is held by the kernel, not named by a pid: a pid means nothing outside its PID
// namespace (two containers on one volume both run as pid 1), and a pid is soon reused. It is a
// POSIX record lock (fcntl) on `<dir>/LOCK.sqlite`, taken through SQLite: `BEGIN EXCLUSIVE` on
// that (empty) database locks the file, and the transaction stays open until release. The kernel
// drops the lock when the holder's file is closed, so also when the holder dies, in whatever PID
// namespace it ran. Node has no flock or fcntl API; SQLite (better-sqlite3, already a dependency
// of the read model) is the one lock manager at hand that also gets the in-process cases right:
// POSIX locks belong to the process, so a second open in the same process would be granted by the
// kernel, but SQLite tracks every connection of the process to one file (its inode list, shared by
// worker threads since the addon is loaded once per process) and answers the second one BUSY. It
// also never closes a file of a locked inode while the lock is held, which plain fcntl would do
// to any other descriptor of the file.
//
// Nothing is written: the transaction only locks, so the file stays an empty, valid database that
// a crash cannot damage. A LOCK file of older builds (a pid) is never read, so it is harmless.
// What the kernel lock cannot see (a deleted or replaced lock file, another host on NFS) the
// shards' writer fence tokens catch at the first commit (ledger-core writer-fence.ts).
//
// Who holds the lock is written beside it, in LOCK.owner (pid and host name), for the DIR_LOCKED
// message only: "already open in this process" (a Ledger not closed, a second open, a worker
// thread) is a bug in the caller to fix, another process is one to stop. The file is never a
// sign of life: only the kernel lock is.

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LedgerError, isLedgerError } from '@shardledger/ledger-core';
import { openSqlite, type SqliteDatabase } from './sqlite-driver.js';

export const lockFileName = 'LOCK.sqlite';
/** The lock file of older builds (a pid and a start time): ignored, and never a sign of life. */
export const legacyLockFileName = 'LOCK';
/** Who holds the lock (written after taking it, removed before releasing it). */
export const ownerFileName = 'LOCK.owner';

interface LockOwner {
  readonly pid: number;
  readonly host: string;
}

/** Lock files this thread holds: a second open here is certainly this process. */
const heldByThisThread = new Set<string>();

export interface DirLock {
  readonly path: string;
  /** Ends the lock's transaction and closes its file: the next open may take it. Idempotent. */
  release(): Promise<void>;
}

/** Takes the exclusive lock of `dir` (which must exist). Throws DIR_LOCKED when a live process
 * (this one included) holds it. */
export async function acquireDirLock(dir: string): Promise<DirLock> {
  const path = join(dir, lockFileName);
  let db: SqliteDatabase;
  try {
    // timeout 0: a held lock answers BUSY at once instead of after SQLite's busy wait.
    db = openSqlite(path, { timeout: 0, fileMustExist: false });
  } catch (error) {
    if (isLedgerError(error)) throw error;
    throw new LedgerError('IO_ERROR', { dir, path, problem: String((error as Error).message) });
  }
  try {
    // A rollback journal, so that EXCLUSIVE keeps every other connection, reader or writer, out
    // (WAL mode would let readers in); kept in memory, since nothing is ever written and a
    // journal file beside the lock would be one more entry in the dir.
    db.pragma('journal_mode = MEMORY');
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    const code = (error as { code?: unknown }).code;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') throw lockedError(dir, path);
    throw new LedgerError('IO_ERROR', { dir, path, problem: String((error as Error).message) });
  }
  heldByThisThread.add(path);
  const owner = join(dir, ownerFileName);
  writeOwner(owner);
  let released = false;
  return {
    path,
    async release(): Promise<void> {
      if (released) return;
      released = true;
      heldByThisThread.delete(path);
      try {
        // Removed while the lock is still held, so that it is never the next holder's file.
        rmSync(owner, { force: true });
        db.exec('ROLLBACK');
      } finally {
        db.close();
      }
    },
  };
}

function writeOwner(path: string): void {
  const owner: LockOwner = { pid: process.pid, host: hostname() };
  try {
    writeFileSync(path, `${JSON.stringify(owner)}\n`);
  } catch {
    // Only the DIR_LOCKED message of another open uses it: the lock holds without it.
  }
}

function readOwner(path: string): LockOwner | null {
  try {
    const owner = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>;
    if (typeof owner.pid !== 'number' || typeof owner.host !== 'string') return null;
    return { pid: owner.pid, host: owner.host };
  } catch {
    return null; // Not written yet, removed meanwhile, or damaged.
  }
}

/** DIR_LOCKED, saying whether this process holds the lock (from this thread or another) or
 * which other process does, when its owner file says. */
function lockedError(dir: string, path: string): LedgerError {
  const owner = heldByThisThread.has(path) ? null : readOwner(join(dir, ownerFileName));
  const thisProcess =
    heldByThisThread.has(path) ||
    (owner !== null && owner.pid === process.pid && owner.host === hostname());
  if (thisProcess) {
    return new LedgerError(
      'DIR_LOCKED',
      { dir, holder: 'this process', pid: process.pid },
      `DIR_LOCKED: the data dir is already open in this process (pid ${process.pid}): close the ` +
        `Ledger that has it open before opening it again (dir=${dir})`,
    );
  }
  const holder = owner === null ? 'another process' : `process ${owner.pid} on ${owner.host}`;
  return new LedgerError(
    'DIR_LOCKED',
    {
      dir,
      holder: 'another process',
      ...(owner === null ? {} : { pid: owner.pid, host: owner.host }),
    },
    `DIR_LOCKED: the data dir is open in ${holder} (dir=${dir})`,
  );
}
