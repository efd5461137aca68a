// Fail-stop for a shard's log, as PostgreSQL learned from fsyncgate: after one failed write the
// engine accepts nothing more and acknowledges nothing that was not durable, and a new engine
// recovers from the log. This file turns lmdb-js's commit failures into one typed error and lets
// every wait of the engine end once it has failed: lmdb-js never resolves `flushed` (and so
// never finishes `close()`) after a failed commit.

import { readFileSync, statfsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LedgerError, isLedgerError, type ErrorDetail } from '../errors.js';

/** errno values of a full disk (ENOSPC) and of the process's file size limit (EFBIG), and
 * LMDB's MDB_MAP_FULL (the environment's map size reached): each is "no room to write". */
const ERRNO_ENOSPC = 28;
const ERRNO_EFBIG = 27;
const MDB_MAP_FULL = -30792;
const fullCodes: ReadonlySet<unknown> = new Set([
  ERRNO_ENOSPC,
  ERRNO_EFBIG,
  MDB_MAP_FULL,
  'ENOSPC',
  'EFBIG',
]);
/** LMDB reports a short write (the file system filled up during a writev) as EIO. */
const ERRNO_EIO = 5;
/** Below this much room (free space, or file size limit minus the file's size), an EIO from a
 * write is taken for a full disk: several large group commits' worth. */
const roomBytesMin = 64 * 1024 * 1024;

/** Whether the data dir has (almost) no room left: free space on its file system, or the
 * process's file size limit (Linux: /proc/self/limits) against events.mdb. */
function outOfRoom(dir: string): boolean {
  try {
    const fs = statfsSync(dir);
    if (fs.bavail * fs.bsize < roomBytesMin) return true;
    const limit = /^Max file size\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (limit === null) return false;
    return Number(limit[1]) - statSync(join(dir, 'events.mdb')).size < roomBytesMin;
  } catch {
    return false;
  }
}

/** How long to wait for lmdb-js to report the cause of a failed commit. It reports it in the same
 * callback that fails the writes, so this bound only matters if a later version stops doing so. */
const causeWaitMs = 1_000;

/** The typed error of a failed write: STORAGE_FULL for ENOSPC, EFBIG and a full map, IO_ERROR
 * otherwise. lmdb-js rejects a failed commit's writes with a generic error whose `commitError`
 * promise rejects with the cause (an Error with the errno as `code`). */
export async function storageErrorOf(
  error: unknown,
  detail: ErrorDetail & { readonly dir: string },
): Promise<LedgerError> {
  if (isLedgerError(error)) return error;
  let cause: unknown = error;
  const commitError = (error as { commitError?: unknown } | null)?.commitError;
  if (commitError instanceof Promise) {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<unknown>((resolve) => {
      timer = setTimeout(() => resolve(error), causeWaitMs);
      timer.unref();
    });
    cause = await Promise.race([
      commitError.then(
        () => error,
        (reason: unknown) => reason,
      ),
      timedOut,
    ]);
    clearTimeout(timer);
  }
  const code = (cause as { code?: unknown } | null)?.code;
  const message = cause instanceof Error ? cause.message : String(cause);
  // No errno: lmdb-js gave no cause (a transaction queued behind a failed one fails with the
  // generic error alone). Out of room, that is the full disk the failed one met.
  const full =
    fullCodes.has(code) || ((code === ERRNO_EIO || code === undefined) && outOfRoom(detail.dir));
  return new LedgerError(full ? 'STORAGE_FULL' : 'IO_ERROR', { ...detail, problem: message });
}

/** The failure of one engine: set once, by the first failed write (or broken invariant); every
 * later call gets that same error. */
export class FailStop {
  #failure: LedgerError | null = null;
  #reject: (error: LedgerError) => void = () => undefined;
  readonly #failed: Promise<never>;

  constructor() {
    this.#failed = new Promise<never>((_resolve, reject) => {
      this.#reject = reject;
    });
    // Nobody may be racing it when it fails: that is not an unhandled rejection.
    this.#failed.catch(() => undefined);
  }

  get failure(): LedgerError | null {
    return this.#failure;
  }

  /** Records `error` unless a failure is recorded already; returns the recorded one. */
  fail(error: LedgerError): LedgerError {
    if (this.#failure === null) {
      this.#failure = error;
      this.#reject(error);
    }
    return this.#failure;
  }

  /** Settles as `promise` does, or rejects with the failure as soon as there is one. */
  race<T>(promise: PromiseLike<T>): Promise<T> {
    if (this.#failure !== null) {
      // Failed already: `promise` (a write queued behind the one that failed, which LMDB then
      // rejects too) decides nothing, but its rejection must not go unhandled: that would crash
      // the shard's thread, and every call in flight would get SHARD_UNAVAILABLE instead of the
      // failure.
      Promise.resolve(promise).catch(() => undefined);
      return Promise.reject(this.#failure);
    }
    return Promise.race([promise, this.#failed]);
  }
}
