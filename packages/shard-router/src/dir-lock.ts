// One process at a time per data dir. Two processes writing one LMDB log through two ledgers
// would each trust their own in-memory state, so a second open must fail (DIR_LOCKED) while the
// owner lives, and a lock left by a dead owner (kill -9, power loss, a stopped container) must be
// taken with no manual step, because crash recovery needs none.
//
// The lock is a small LMDB environment, `<dir>/LOCK.mdb` (and LMDB's `LOCK.mdb-lock` beside it),
// and its truth is held by the kernel, through LMDB's own reader table:
// - every process that reads an LMDB environment holds a POSIX record lock (fcntl) on the byte of
//   the `-lock` file at its pid, for as long as the environment is open in it. The kernel drops it
//   when the process dies, whatever PID namespace it ran in, and `readerCheck()` asks the kernel
//   (F_GETLK) which reader slots belong to a process that still holds its byte;
// - the holder keeps a read transaction open on the lock environment (so its slot, with its pid,
//   stays in the table) and records itself, `{ pid, host, token }`, in a write transaction;
// - an open takes the lock in one write transaction (LMDB's writer mutex makes check and record
//   one atomic step against any other process): after `readerCheck()` has cleared the slots of
//   dead processes, a record whose pid still has a live reader slot is a live holder (DIR_LOCKED),
//   and any other record is a dead holder's, replaced.
// The pid is only where the kernel lock sits, never trusted on its own: a live pid in the reader
// table is a process that holds its byte now, in whatever PID namespace it runs.
//
// Between PID namespaces (two containers sharing one volume, each running the ledger as pid 1),
// LMDB's reader table holds one pid number for two processes, and its close clears every slot of
// its pid number. That never frees a live holder's slot: LMDB takes the kernel lock at the pid
// before it claims a slot (mdb_txn_renew0 calls mdb_reader_pid first) and claims none when another
// process holds that byte, so a process gets a slot of a pid number only when no live process of
// that number has one, and a refused same-pid contender closes with no slot to clear.
// dir-lock-namespaces.crash.test.ts runs that sequence. The limit left: `readerCheck()` never
// checks slots of its own pid, so a slot of this pid left by a killed process of another namespace
// refuses this open (DIR_LOCKED, "another PID namespace") until the table is reset (the first open
// once no process has it open) or a process of another pid runs `readerCheck()`; it is never a
// second holder.
//
// Inside one process the kernel lock is no help (POSIX locks belong to the process), so lmdb-js's
// process-wide lock table (`tryLock`, shared by every thread that opens the environment) says
// whether this process holds the dir already: a second open, or one from a worker thread.
//
// Why LMDB: Node has no flock or fcntl API, and lmdb is already what every shard is stored in, so
// the lock needs no native addon of its own. SQLite (better-sqlite3) did the same job before, but
// it is an optional peer now, needed by the read model only.
//
// What the kernel lock cannot see (a deleted or replaced lock file, another host on NFS) the
// shards' writer fence tokens catch at the first commit (ledger-core writer-fence.ts).

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LedgerError, isLedgerError } from '@shardledger/ledger-core';
import { readerPids } from '@shardledger/ledger-core/internals';
import { open, type Database, type RootDatabase, type Transaction } from 'lmdb';

export const lockFileName = 'LOCK.mdb';
/** LMDB's reader table of the lock environment, where the kernel locks sit. */
export const lockTableFileName = 'LOCK.mdb-lock';
/** The lock files of older builds (a pid; a SQLite file and its owner): ignored, never a sign of
 * life. */
export const legacyLockFileNames: readonly string[] = ['LOCK', 'LOCK.sqlite', 'LOCK.owner'];

/** Who holds the lock: written by the holder in the lock environment, removed on release. */
interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** This holding's own id: a record of the same pid but another token is a dead process's. */
  readonly token: string;
}

const holderKey = 'holder';
/** The key of lmdb-js's process-wide lock table entry for this dir. */
const processLockKey = 'dir-lock';

/** lmdb-js's process-wide lock table, which its type declarations leave out. */
interface ProcessLockTable {
  tryLock(id: string): boolean;
  unlock(id: string): boolean;
}

export interface DirLock {
  readonly path: string;
  /** Removes the holder's record and closes the lock environment: the next open may take it.
   * Idempotent. */
  release(): Promise<void>;
}

/** Takes the exclusive lock of `dir` (which must exist). Throws DIR_LOCKED when a live process
 * (this one included) holds it. */
export async function acquireDirLock(dir: string): Promise<DirLock> {
  const path = join(dir, lockFileName);
  const env = openLockEnv(dir, path);
  const table = env as unknown as ProcessLockTable;
  if (!table.tryLock(processLockKey)) {
    await env.close();
    throw heldByThisProcess(dir);
  }
  const holder: LockHolder = { pid: process.pid, host: hostname(), token: randomUUID() };
  let reading: Transaction | undefined;
  try {
    // The read transaction first: the slot (and the kernel lock at this pid) must be live before
    // the record names this process, or a concurrent open would take the record for a dead one.
    reading = registerReader(env, dir);
    takeRecord(env, dir, holder);
  } catch (error) {
    reading?.done();
    table.unlock(processLockKey);
    await env.close();
    if (isLedgerError(error)) throw error;
    throw new LedgerError('IO_ERROR', { dir, path, problem: String((error as Error).message) });
  }
  let released = false;
  return {
    path,
    async release(): Promise<void> {
      if (released) return;
      released = true;
      try {
        // Removed while the lock is still held, so that it is never the next holder's record.
        env.transactionSync(() => {
          const record = env.get(holderKey) as LockHolder | undefined;
          if (record?.token === holder.token) env.removeSync(holderKey);
        });
      } finally {
        reading.done();
        table.unlock(processLockKey);
        await env.close();
      }
    },
  };
}

function openLockEnv(dir: string, path: string): RootDatabase<LockHolder, string> {
  try {
    return open<LockHolder, string>({
      path,
      // The environment is LOCK.mdb plus LOCK.mdb-lock in the data dir, not a directory of its own.
      noSubdir: true,
      // One record of well under a page: the smallest map LMDB grows from.
      mapSize: 1024 * 1024,
      maxDbs: 0,
      // A record lost with a crash names a dead holder, but a file torn by one could not be
      // opened again without a manual step: commits are synced (one small write per open).
      noSync: false,
      noMetaSync: false,
      overlappingSync: false,
      encoding: 'json',
      compression: false,
      cache: false,
      eventTurnBatching: false,
    });
  } catch (error) {
    throw new LedgerError('IO_ERROR', { dir, path, problem: String((error as Error).message) });
  }
}

/** This process's reader slot, held by a read transaction until release. Its kernel lock failing
 * means a process of this pid number in another PID namespace holds that byte: a live holder. */
function registerReader(env: RootDatabase<LockHolder, string>, dir: string): Transaction {
  // No thread of this process has a slot yet (the process-wide table was free), so a slot of this
  // pid is another process's: the same pid number in another PID namespace (two containers on one
  // volume, each running as pid 1). LMDB would refuse this process a slot while that one holds the
  // byte, but only after lmdb-js's retries (about 10 s, blocking the thread), so ask first.
  // A dead process's slots are gone once the table is reset (the first open after the last close)
  // or a process of another pid ran `readerCheck()`.
  env.readerCheck();
  if (readerPids(env.readerList()).has(process.pid)) throw heldBySamePid(dir);
  try {
    return env.useReadTransaction();
  } catch (error) {
    if (/Resource temporarily unavailable|EAGAIN|EACCES/.test(String((error as Error).message)))
      throw heldBySamePid(dir);
    throw error;
  }
}

/** In one write transaction: refuses a live holder's record, or writes this holder's. */
function takeRecord(env: RootDatabase<LockHolder, string>, dir: string, holder: LockHolder): void {
  env.transactionSync(() => {
    // Slots of processes whose kernel lock is gone (dead, whatever their PID namespace).
    env.readerCheck();
    const record = env.get(holderKey);
    if (record !== undefined && isLiveHolder(env, record)) throw heldByAnother(dir, record);
    env.putSync(holderKey, holder);
  });
}

/** Whether the record names a process that still holds its reader slot. A record of this pid
 * is not this process (the process-wide table said so): a dead process's, whose pid was reused. */
function isLiveHolder(env: Database<LockHolder, string>, record: LockHolder): boolean {
  if (record.pid === process.pid) return false;
  return readerPids(env.readerList()).has(record.pid);
}

function heldByThisProcess(dir: string): LedgerError {
  return new LedgerError(
    'DIR_LOCKED',
    { dir, holder: 'this process', pid: process.pid },
    `DIR_LOCKED: the data dir is already open in this process (pid ${process.pid}): close the ` +
      `Ledger that has it open before opening it again (dir=${dir})`,
  );
}

function heldBySamePid(dir: string): LedgerError {
  return new LedgerError(
    'DIR_LOCKED',
    { dir, holder: 'another process', pid: process.pid },
    `DIR_LOCKED: the data dir is open in another process of pid ${process.pid}, in another PID ` +
      `namespace (dir=${dir})`,
  );
}

function heldByAnother(dir: string, record: LockHolder): LedgerError {
  return new LedgerError(
    'DIR_LOCKED',
    { dir, holder: 'another process', pid: record.pid, host: record.host },
    `DIR_LOCKED: the data dir is open in process ${record.pid} on ${record.host} (dir=${dir})`,
  );
}
