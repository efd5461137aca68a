// The projector's worker thread: owns the read-model file's writing connection and applies event
// batches that the ReadModel on the caller's thread ships to it (projector.ts does the work, one
// SQLite transaction per batch). Moving the SQLite writes here keeps them off the thread that
// submits transfers; lowering this thread's priority keeps them off the CPU the shards need.

import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { limits } from '@shardledger/ledger-core';
import {
  assert,
  assertNever,
  decodeEventRecord,
  errorToWire,
} from '@shardledger/ledger-core/internals';
import {
  Projector,
  type ProjectorBatch,
  type SequencedLedgerEvent,
  type Watermark,
} from './projector.js';
import type {
  ProjectorReply,
  ProjectorRequest,
  ProjectorWorkerData,
  RecordBatch,
} from './projector-protocol.js';
import { openReadModelDb } from './read-model-db.js';

const port = parentPort;
assert(port !== null, 'projector-worker runs as a worker thread');
const data = workerData as ProjectorWorkerData;

/** Sets this thread's niceness. On Linux setpriority() on a thread id changes that thread only, and
 * a process may always lower its own priority. Elsewhere (no /proc/thread-self) it stays as it is:
 * null is reported and the projection still works, it just competes with the writers for CPU. */
function lowerPriority(niceness: number): number | null {
  if (niceness === 0) return 0;
  let threadId: number;
  try {
    threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return null;
  }
  assert(Number.isSafeInteger(threadId) && threadId > 0, 'a thread id');
  setPriority(threadId, niceness);
  return getPriority(threadId);
}

const niceness = lowerPriority(data.niceness);
const db = openReadModelDb({ path: data.path, readonly: false, projects: true });
const projector = new Projector(db);

function reply(message: ProjectorReply): void {
  (port as NonNullable<typeof port>).postMessage(message);
}

/** Events applied in one transaction at most when several batches wait in the queue (see
 * batchesInFlightPerShardMax in projection-loop.ts for why bigger is cheaper per event). */
const mergedEventsMax = 12 * limits.batchSizeMax;

/** Decodes a request's records into the events it asks for (some records start before the range
 * or run past it: the shard reads whole records). */
function batchOf(request: RecordBatch): ProjectorBatch {
  const { shard, afterSequence, lastSequence } = request;
  const events: SequencedLedgerEvent[] = [];
  for (const bytes of request.records) {
    const record = decodeEventRecord(bytes);
    for (let index = 0; index < record.events.length; index += 1) {
      const sequence = record.first + index;
      if (sequence > afterSequence && sequence <= lastSequence)
        events.push({ sequence, event: record.events[index] as SequencedLedgerEvent['event'] });
    }
  }
  // The projector checks that they follow one another; here, that none is missing at the end.
  assert(
    events.length === lastSequence - afterSequence,
    `shard ${shard} records hold events ${afterSequence + 1} to ${lastSequence}`,
  );
  return { shard, afterSequence, events };
}

/** Applies `first` and the apply requests queued behind it (up to mergedEventsMax events) in one
 * transaction, replies to each, and handles a close found in the queue afterwards. */
function applyQueued(first: RecordBatch): void {
  const requests: RecordBatch[] = [first];
  let events = first.lastSequence - first.afterSequence;
  let next: ProjectorRequest | null = null;
  while (events < mergedEventsMax) {
    const queued = receiveMessageOnPort(port as NonNullable<typeof port>);
    if (queued === undefined) break;
    next = queued.message as ProjectorRequest;
    if (next.kind !== 'apply') break;
    requests.push(next);
    events += next.lastSequence - next.afterSequence;
    next = null;
  }
  let marks: Watermark[];
  try {
    marks = projector.applyBatches(requests.map(batchOf));
  } catch (error) {
    // The transaction rolled back (or a record did not decode); the caller stops the projection
    // and reports this.
    const wire = errorToWire(error);
    for (let index = 0; index < requests.length; index += 1) reply({ kind: 'failed', error: wire });
    marks = [];
  }
  for (const watermark of marks) reply({ kind: 'applied', watermark });
  if (next !== null) handle(next);
}

function handle(request: ProjectorRequest): void {
  switch (request.kind) {
    case 'apply':
      applyQueued(request);
      return;
    case 'close':
      // A clean close checkpoints the WAL into the file (rebuild renames the file afterwards).
      db.close();
      reply({ kind: 'closed' });
      (port as NonNullable<typeof port>).close();
      return;
    default:
      assertNever(request, 'projector request');
  }
}

port.on('message', handle);

reply({ kind: 'ready', niceness });
