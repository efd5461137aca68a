// A shard's writer epoch: a fence that refuses the second of two writers even when the data dir's
// lock was fooled (its file deleted or replaced, two hosts on NFS). The router's dir lock keeps a
// second process out; this catches the writer that got past it anyway, at its first commit.
//
// The `writer` db of the shard's environment holds one entry whose LMDB version is the fence
// token. Every write block of an engine is an lmdb-js conditional block on the token being the
// one this writer's previous block left, and moves it on by one: LMDB checks it inside the write
// transaction, under its writer mutex, so the check and the commit are one atomic step. Each
// ShardEngine.open takes a token `tokenGap` above the stored one (a put conditional on the token
// it read, retried if a live writer moved it meanwhile) and flushes it before recovery reads the
// log.
//
// One condition covers two faults:
// - another writer: its open moved the token beyond every token the older writer's blocks can
//   expect, so every later block of the older writer is a no-op (nothing of it is written), and
//   the older one stops: it acknowledges nothing more, and its memory, ahead of the log, is never
//   used again;
// - a failed write transaction of this writer: blocks are issued without waiting for the one
//   before (group commits pipeline), so after a failed one a later one could land and leave a
//   hole in the log; it expects the token the failed one would have left, and is refused too.
//
// Why the gap: blocks pipeline, so when a newer writer reads the token, the older one may have
// blocks in flight that expect the next few tokens. Had the newer writer taken only the next one,
// the older writer's second block in flight would expect exactly that token and land after the
// newer open: a hole in the log, and the newer writer refused by leftovers. A writer never has
// more than `unresolvedBlocksMax` blocks unresolved, and issues none after one was refused, so
// none of its blocks can expect a token as high as the newer writer's.
//
// Why the older writer is the one refused: the newer one recovered from a log that already held
// everything the older one had committed before the newer open's token, and nothing the older
// one writes after it reaches the log. So every acknowledged commit is in the newer writer's state.
//
// Cost: one version comparison and one small put per group commit, in the write transaction.
import { hostname } from 'node:os';
import type { Database, RootDatabase } from 'lmdb';
import { assert } from '../assert.js';
import { LedgerError } from '../errors.js';
import { readerPids } from './reader-table.js';

const writerKey = 'writer';

/** Who took the epoch: for an operator reading the env, never for a decision. */
export interface WriterRecord {
  readonly pid: number;
  readonly host: string;
  readonly openedAtMs: number;
}

export interface WriterFenceOptions {
  readonly env: RootDatabase;
  /** The `writer` db, opened with `useVersions: true` (lmdb-env.ts). */
  readonly db: Database<WriterRecord, string>;
  /** For error details. */
  readonly dir: string;
}

/** Tries of an open to take the next token while a live writer keeps moving it. */
const takeAttemptsMax = 100;
/** The most blocks one writer has issued and LMDB has not yet resolved. Far above any real
 * pipeline (each block is a group commit in flight); reaching it means the writes stalled. */
const unresolvedBlocksMax = 2 ** 20;
/** How far above the stored token an open takes its own: above any token a writer with
 * `unresolvedBlocksMax` blocks in flight can expect. Tokens stay exact integers (2^53) for 2^29
 * opens. */
const tokenGap = 2 ** 24;

/**
 * Refuses, before this open writes anything, an environment that another live process has open
 * (DIR_LOCKED). The fence alone is not enough there: with two processes committing to one shard
 * environment under load, `fence-race-probe.mjs` (packages/bench/bin) saw the older writer's
 * acknowledged commits lost and LMDB fail transactions with MDB_BAD_TXN. LMDB's reader table
 * names every process with the environment open (each holds a read slot); `readerCheck` first
 * frees the slots of dead processes, by the lock the kernel held for each while it lived.
 * Threads of this process share its pid and are not counted.
 */
function refuseOpenElsewhere(env: RootDatabase, dir: string): void {
  env.readerCheck();
  const pids = [...readerPids(env.readerList())].filter((pid) => pid !== process.pid);
  if (pids.length > 0)
    throw new LedgerError('DIR_LOCKED', {
      dir,
      problem: `another process has this shard's environment open (pid ${pids[0]})`,
    });
}

/** A write's rejection that its block's promise reports too (WriterFence.guard). */
function ignoreBlockFailure(): void {}

export class WriterFence {
  /** The token this writer's last block leaves behind (issued, maybe not yet committed). */
  private token: number;
  private readonly record: WriterRecord;
  private readonly db: Database<WriterRecord, string>;
  /** Blocks issued and not yet resolved by LMDB. */
  private unresolved = 0;
  /** Set once a block was refused or failed: no block is issued after it. */
  private broken = false;
  private readonly settle = (owned: boolean): boolean => {
    this.unresolved -= 1;
    if (!owned) this.broken = true;
    return owned;
  };
  private readonly settleFailed = (error: unknown): never => {
    this.unresolved -= 1;
    this.broken = true;
    throw error;
  };
  private readonly dir: string;

  private constructor(options: WriterFenceOptions, token: number, record: WriterRecord) {
    this.db = options.db;
    this.dir = options.dir;
    this.token = token;
    this.record = record;
  }

  /** Takes the next token, durably, before anything else of this open reads or writes the log.
   * Throws WRITER_FENCED when other writers kept moving it through every attempt. */
  static async take(options: WriterFenceOptions): Promise<WriterFence> {
    refuseOpenElsewhere(options.env, options.dir);
    const record: WriterRecord = { pid: process.pid, host: hostname(), openedAtMs: Date.now() };
    let stored = 0;
    for (let attempt = 0; attempt < takeAttemptsMax; attempt++) {
      const entry = options.db.getEntry(writerKey);
      stored = entry?.version ?? 0;
      assert(
        Number.isSafeInteger(stored) && stored >= 0,
        'a fence token is a non-negative integer',
      );
      const token = stored + tokenGap;
      if (!Number.isSafeInteger(token))
        throw new LedgerError('WRITER_FENCED', {
          dir: options.dir,
          problem: 'the fence token has no room left for another open',
          storedToken: stored,
        });
      // The first token only if no writer ever took one (LMDB's no-overwrite); a later one only
      // if the token read is still there.
      const taken =
        entry === undefined
          ? await options.db.ifNoExists(
              writerKey,
              () => void options.db.put(writerKey, record, token),
            )
          : await options.db.put(writerKey, record, token, stored);
      if (taken) {
        await options.env.flushed;
        return new WriterFence(options, token, record);
      }
    }
    throw new LedgerError('WRITER_FENCED', {
      dir: options.dir,
      problem: 'another writer kept committing while this one opened',
      storedToken: stored,
    });
  }

  /** Runs `writes` (puts and removes of this environment, issued synchronously) as one block
   * that LMDB commits only if the stored token is the one this writer's previous block left.
   * Resolves true once committed, false when refused (nothing of the block was written). After
   * one refused or failed block, later ones are refused without being issued. */
  guard(writes: () => void): Promise<boolean> {
    if (this.broken) return Promise.resolve(false);
    if (this.unresolved >= unresolvedBlocksMax) {
      this.broken = true;
      return Promise.reject(
        new LedgerError('IO_ERROR', {
          dir: this.dir,
          problem: `${this.unresolved} write blocks issued and none resolved: the writes stalled`,
        }),
      );
    }
    const expected = this.token;
    const next = expected + 1;
    this.token = next;
    this.unresolved += 1;
    return this.db
      .ifVersion(writerKey, expected, () => {
        writes();
        // A versioned put gets a promise of its own, which LMDB rejects when the block is in a
        // transaction that fails (the disk is full, say). The block's own promise (returned) says
        // the same, and the caller handles that one; unhandled, this one would crash the thread.
        this.db.put(writerKey, this.record, next).then(undefined, ignoreBlockFailure);
      })
      .then(this.settle, this.settleFailed);
  }

  /** The token the next block will expect (the one the last block issued leaves behind). */
  get issued(): number {
    return this.token;
  }

  /** Whether a block that expected `expected` was refused because an earlier block of this
   * writer never landed (the stored token is below it), not because another writer moved it. */
  followsOwnFailure(expected: number): boolean {
    const stored = this.storedToken();
    return typeof stored === 'number' && stored < expected;
  }

  /** The error of a block refused because another writer moved the token. */
  refusal(): LedgerError {
    const stored = this.storedToken();
    return new LedgerError('WRITER_FENCED', {
      dir: this.dir,
      token: this.token,
      storedToken: stored ?? null,
    });
  }

  /** The token stored now. lmdb-js keeps one read transaction for a whole event turn, which may
   * predate another process's open: read from a fresh one. */
  private storedToken(): number | undefined {
    this.db.resetReadTxn();
    return this.db.getEntry(writerKey)?.version;
  }
}
