// Deterministic failpoints: named places in the code where a test makes an operation fail, a
// shard worker die, or the whole process die with SIGKILL, on exactly the Nth time the place is
// reached. Unarmed, `failpoint(name)` is one Map size check, so the calls stay in production code.
//
// Each thread has its own table: arm shard points inside a worker through ShardClient
// (armFailpoint message), saga points in the main thread with armFailpoint here. Child processes
// in crash tests arm them with SHARDLEDGER_FAILPOINTS="name=kill-process@3,other=throw", read by
// the main thread at load and by each shard worker on its first start (not on restarts, so a
// worker killed by an env failpoint is not killed again by its replacement).

import { isMainThread } from 'node:worker_threads';
import { LedgerError } from '@shardledger/ledger-core';

/** Points this package hits (shard.*) and points reserved for the saga coordinator (saga.*).
 * Any other name works too; these are listed so that tests and code agree on spelling. */
export const failpointNames = {
  /** Worker, after receiving the open request, before ShardEngine.open (recovery). */
  shardOpenBeforeRecover: 'shard.open.before-recover',
  /** Worker, before a submit message's commands are handed to the engine. */
  shardSubmitBeforeAppend: 'shard.submit.before-append',
  /** Worker, once the engine reports the batch durable, before the reply is posted. */
  shardSubmitAfterCommitBeforeReply: 'shard.submit.after-commit-before-reply',
  /** Worker, before any read-only operation (lookups, history, readEvents, info...). */
  shardReadBefore: 'shard.read.before',
  /** Worker, before it copies its shard for Ledger.backup. */
  shardBackupBefore: 'shard.backup.before',
  /** Main thread (ShardClient), before a submit message is posted to the worker. */
  clientSubmitBeforePost: 'client.submit.before-post',
  /** Main thread, before a call's reservations are put in its shard messages. */
  sagaReserveBefore: 'saga.reserve.before',
  /** Main thread, once every reservation is answered, before the sagas' outcomes are decided. */
  sagaReserveAfter: 'saga.reserve.after',
  /** Main thread, outcomes decided, before the commit steps are queued on their shards. */
  sagaCommitBefore: 'saga.commit.before',
  /** Main thread, right after the commit steps were queued (a batch's steps are not awaited:
   * saga/saga-coordinator.ts finishBatch; a single saga's, run(), are). */
  sagaCommitAfter: 'saga.commit.after',
  /** The same two points for release (compensation) steps. */
  sagaReleaseBefore: 'saga.release.before',
  sagaReleaseAfter: 'saga.release.after',
  /** Main thread, once the debit shard decided a cross-shard hold's post or void, before the
   * credit shard follows. */
  sagaHoldDecided: 'saga.hold.decided',
} as const;

export const failpointActions = ['throw', 'exit-worker', 'kill-process'] as const;
export type FailpointAction = (typeof failpointActions)[number];

export interface FailpointOptions {
  readonly action: FailpointAction;
  /** Trigger on the Nth hit (1 = the first); the point then disarms itself. Default 1. */
  readonly after?: number;
}

interface ArmedFailpoint {
  readonly action: FailpointAction;
  readonly after: number;
  hits: number;
}

const armed = new Map<string, ArmedFailpoint>();

/** Marks a failpoint. Does nothing unless `name` is armed; on its Nth hit it throws
 * LedgerError('FAILPOINT'), ends this worker thread, or SIGKILLs the process. */
export function failpoint(name: string): void {
  if (armed.size === 0) return;
  const point = armed.get(name);
  if (point === undefined) return;
  point.hits++;
  if (point.hits < point.after) return;
  armed.delete(name);
  trigger(name, point.action);
}

function trigger(name: string, action: FailpointAction): void {
  switch (action) {
    case 'throw':
      throw new LedgerError('FAILPOINT', { name });
    case 'exit-worker':
      // In a worker, process.exit ends only this thread: nothing after this line runs, no reply
      // is posted, and the main thread sees an 'exit' event. In the main thread it would end the
      // process, which a test asking for exit-worker cannot mean: refuse loudly.
      if (isMainThread)
        throw new LedgerError('FAILPOINT', {
          name,
          problem: 'exit-worker armed in the main thread',
        });
      process.exit(86);
    // falls through: process.exit never returns.
    case 'kill-process':
      process.kill(process.pid, 'SIGKILL');
      // SIGKILL is delivered asynchronously on some platforms; never run past the point.
      for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1_000);
  }
}

export function armFailpoint(name: string, options: FailpointOptions): void {
  const after = options.after ?? 1;
  if (
    name.length === 0 ||
    !failpointActions.includes(options.action) ||
    !Number.isSafeInteger(after) ||
    after < 1
  ) {
    throw new LedgerError('INVALID_ARGUMENT', {
      field: 'failpoint',
      name,
      action: String(options.action),
    });
  }
  armed.set(name, { action: options.action, after, hits: 0 });
}

export function disarmFailpoint(name: string): void {
  armed.delete(name);
}

export function disarmAllFailpoints(): void {
  armed.clear();
}

/** The names armed in this thread (for diagnostics and tests). */
export function armedFailpoints(): string[] {
  return [...armed.keys()];
}

/** Parses "name=action[@N],name2=action2" (whitespace around items is ignored). */
export function parseFailpointSpec(spec: string): { name: string; options: FailpointOptions }[] {
  const parsed: { name: string; options: FailpointOptions }[] = [];
  for (const item of spec.split(',')) {
    const text = item.trim();
    if (text.length === 0) continue;
    const match = /^([^=\s]+)=([a-z-]+)(?:@(\d+))?$/.exec(text);
    const action = match?.[2] as FailpointAction | undefined;
    if (match === null || action === undefined || !failpointActions.includes(action)) {
      throw new LedgerError('INVALID_ARGUMENT', { field: 'SHARDLEDGER_FAILPOINTS', item: text });
    }
    const after = match[3] === undefined ? 1 : Number.parseInt(match[3], 10);
    parsed.push({ name: match[1] as string, options: { action, after } });
  }
  return parsed;
}

/** Arms every failpoint named in `spec` (default: the SHARDLEDGER_FAILPOINTS env var). */
export function armFailpointsFromEnv(
  spec: string | undefined = process.env['SHARDLEDGER_FAILPOINTS'],
): void {
  if (spec === undefined || spec.length === 0) return;
  for (const { name, options } of parseFailpointSpec(spec)) armFailpoint(name, options);
}

if (isMainThread) armFailpointsFromEnv();
