// Worker-thread entry of one shard (package export "./worker"). It opens the one ShardEngine of
// its shard dir, the only writer of that LMDB environment, and runs the requests
// of its ShardClient. Requests are started in arrival order, without waiting for the previous
// one to become durable, so the client's pipelined messages become back-to-back group commits.
// Queued requests are started a turn of the event loop (setImmediate) at a time, and a turn
// takes only up to turnBytesMax of them: lmdb-js commits the writes of a turn when the turn
// ends, so a worker that ran every queued submit in one turn would put them all in one
// transaction, start writing only after the last, and leave nothing to compute while that
// transaction commits. A turn per large message, each submit's commit runs on lmdb's write
// thread while the next one is computed, and its reply goes out as soon as it is durable; small
// messages still share a turn, and so one transaction and one fsync, as they would otherwise
// queue behind each other's fsyncs.
//
// A bug (ASSERTION_FAILED) or a storage failure ends the thread after replying: the client then
// starts a new worker, which recovers from the log.

import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { LedgerError, ShardEngine, type BackupInfo } from '@shardledger/ledger-core';
import {
  assert,
  corruptionOf,
  errorToWire,
  type ShardIdentityExpectation,
  type WireError,
} from '@shardledger/ledger-core/internals';
import { PartitionMap } from '../partition.js';
import { closeReplica, openReplica } from '../replication/worker-replica.js';
import type { OpenedShardReplica } from '../replication/shard-restore.js';
import {
  armFailpoint,
  armFailpointsFromEnv,
  disarmAllFailpoints,
  failpoint,
  failpointNames,
} from '../failpoints.js';
import {
  createPackr,
  decodeMessage,
  encodeMessage,
  type ShardOp,
  type ShardOpArgs,
  type ShardOpResult,
  type ShardReadyMessage,
  type ShardReply,
  type ShardIdentityWire,
  type ShardRequest,
  type ShardWorkerData,
} from './shard-protocol.js';

/** Exit code of a worker that stopped itself after a fatal error (the client restarts it). */
const exitCodeFatal = 70;
const fatalCodes: ReadonlySet<string> = new Set([
  'ASSERTION_FAILED',
  'IO_ERROR',
  'STORAGE_FULL',
  'STORAGE_CORRUPT',
]);

assert(!isMainThread, 'shard-worker runs in a worker thread');
const port = parentPort;
assert(port !== null, 'a worker has a parent port');
const data = workerData as ShardWorkerData;
const packr = createPackr();

interface QueuedRequest {
  readonly request: ShardRequest;
  readonly bytes: number;
}

let engine: ShardEngine | undefined;
/** The shard's replicated log, in `replicated` durability. */
let replica: OpenedShardReplica | undefined;
/** Backup copies begun by backupCut, by target dir, until backupDone collects them. */
const backupsCopying = new Map<string, Promise<BackupInfo>>();
/** Encoded bytes of the requests started in one turn, beyond the first (about 180 plain transfers
 * with UUIDv4 ids). A message joined from small calls (SendQueue's joinedMessageMax) gets a turn,
 * and so a commit, of its own: its callers are answered while the shard applies the next one.
 * Small requests (reads, a few transfers) share a turn. */
const turnBytesMax = 16 * 1024;

/** Requests not started yet, in arrival order (those that arrive while the engine opens wait
 * here too), with their encoded sizes. Usually a handful: the client keeps at most a few submit
 * messages in flight. */
const queued: QueuedRequest[] = [];
/** Whether the engine is open and a turn to start the next request is scheduled. */
let opened = false;
let startScheduled = false;

port.on('message', (buffer: ArrayBuffer) => {
  const request = decodeMessage(packr, buffer) as ShardRequest;
  // A lookup sent `ahead` runs at once, between turns: it sees every write applied so far
  // (ShardRequest.ahead).
  if (request.ahead === true && request.op === 'lookupTransfers' && opened) {
    void handle(request);
    return;
  }
  queued.push({ request, bytes: buffer.byteLength });
  scheduleStart();
});

function scheduleStart(): void {
  if (!opened || startScheduled || queued.length === 0) return;
  startScheduled = true;
  setImmediate(startNext);
}

/** Starts the oldest queued requests, up to turnBytesMax of them (at least one), then gives
 * the event loop a turn before the next ones. The next turn is asked for after the requests
 * have issued their writes, so that lmdb-js's own end-of-turn task (queued by the first write)
 * runs first and commits them without the next ones. */
function startNext(): void {
  startScheduled = false;
  let bytes = 0;
  do {
    const next = queued.shift() as QueuedRequest;
    bytes += next.bytes;
    void handle(next.request);
  } while (queued.length > 0 && bytes + (queued[0] as QueuedRequest).bytes <= turnBytesMax);
  scheduleStart();
}

void start();

async function start(): Promise<void> {
  try {
    // Env failpoints only for the first worker: a restarted one must not die the same death.
    if (data.generation === 0) armFailpointsFromEnv();
    if (data.failpoints !== undefined) armFailpointsFromEnv(data.failpoints);
    failpoint(failpointNames.shardOpenBeforeRecover);
    // Every engine option is passed through explicitly; defaults live in ShardEngine.
    const { identity, replication: _replication, ...options } = data.engine;
    // Replicated: the local log is brought level with the shard's stream before the engine opens.
    replica = await openReplica(data.dir, data.shard, data.engine);
    engine = await ShardEngine.open({
      dir: data.dir,
      ...options,
      ...(identity === undefined ? {} : { identity: identityOf(identity) }),
      ...(replica === undefined ? {} : { replica: replica.replicator }),
    });
    post({ id: 0, ok: true, value: { info: engine.info() } });
  } catch (error) {
    post({ id: 0, ok: false, error: errorToWire(error) });
    process.exit(exitCodeFatal);
  }
  opened = true;
  scheduleStart();
}

async function handle(request: ShardRequest): Promise<void> {
  let reply: ShardReply;
  try {
    reply = { id: request.id, ok: true, value: await execute(request) };
  } catch (error) {
    // LMDB's errors of a damaged page reach here from any read: typed, with the shard.
    const wire: WireError = errorToWire(corruptionOf(error, { dir: data.dir }) ?? error);
    post({ id: request.id, ok: false, error: wire });
    // A backup that failed wrote only to its own target (a full or unwritable backup disk): the
    // shard's environment is whole, and a failed engine stops the thread at its next request.
    if (fatalCodes.has(wire.code) && request.op !== 'backupCut' && request.op !== 'backupDone')
      process.exit(exitCodeFatal);
    return;
  }
  post(reply);
}

function post(message: ShardReply | ShardReadyMessage): void {
  const buffer = encodeMessage(packr, message);
  port?.postMessage(buffer, [buffer]);
}

/** How the worker runs each op on its engine: the table is typed by ShardOps, so each handler
 * takes exactly the arguments that crossed and answers exactly what crosses back. */
type ShardHandlers = {
  readonly [Op in ShardOp]: (
    shard: ShardEngine,
    ...args: ShardOpArgs<Op>
  ) => ShardOpResult<Op> | Promise<ShardOpResult<Op>>;
};

/** A read of the engine, behind the read failpoint; in `replicated` durability, failed with
 * REPLICATION_UNAVAILABLE while the stream has not taken what the read waits for. */
function read<Args extends unknown[], Result>(
  run: (shard: ShardEngine, ...args: Args) => Result,
): (shard: ShardEngine, ...args: Args) => Result {
  return (shard, ...args) => {
    failpoint(failpointNames.shardReadBefore);
    const result = run(shard, ...args);
    const replicator = replica?.replicator;
    return replicator !== undefined && result instanceof Promise
      ? (replicator.guard(result) as Result)
      : result;
  };
}

const handlers: ShardHandlers = {
  async submit(shard, batch) {
    // The engine reads the batch in its wire form (ShardEngine.submitEncoded).
    failpoint(failpointNames.shardSubmitBeforeAppend);
    const replicator = replica?.replicator;
    replicator?.admit();
    const submitted = shard.submitEncoded(batch);
    const results = await (replicator === undefined ? submitted : replicator.guard(submitted));
    failpoint(failpointNames.shardSubmitAfterCommitBeforeReply);
    return results;
  },
  lookupAccounts: read((shard, ids) => shard.lookupAccounts(ids)),
  lookupTransfers: read((shard, ids) => shard.lookupTransfers(ids)),
  openHolds: read((shard, ids) => shard.openHolds(ids)),
  listAccounts: read(async (shard, after, limit, currency) => {
    // The ids from the index, then their views as lookupAccounts gives them: once durable.
    const ids = shard.liveState.accountOrder.page(after, limit, currency);
    const found = await shard.lookupAccounts(ids);
    return found.map((account) => {
      assert(account !== undefined, 'a listed account exists');
      return account;
    });
  }),
  reservation: read((shard, sagaId) => shard.reservation(sagaId)),
  sagaOutcome: read((shard, sagaId) => shard.sagaOutcome(sagaId)),
  openReservations: read((shard) => shard.openReservations()),
  accountHistory: read((shard, accountId, options) => shard.accountHistory(accountId, options)),
  balanceAsOf: read((shard, accountId, at) => shard.balanceAsOf(accountId, at)),
  readRecords: read((shard, afterSequence, limit) => shard.readRecords(afterSequence, limit)),
  readNewRecords: read(async (shard, afterSequence, limitEvents) => {
    // readRecords takes the same last sequence as its bound: nothing awaits in between.
    const lastSequence = shard.lastSequence;
    return {
      lastSequence,
      records:
        lastSequence > afterSequence ? await shard.readRecords(afterSequence, limitEvents) : [],
    };
  }),
  readEvents: read((shard, afterSequence, limit) => shard.readEvents(afterSequence, limit)),
  logDigestAt: read((shard, sequence) => shard.logDigestAt(sequence)),
  sequenceAt: read((shard, timestamp) => shard.sequenceAt(timestamp)),
  info: read((shard) => shard.info()),
  transferIdFilter: (shard) => {
    const { layers, capacities, counts } = shard.transferIdFilter();
    return {
      layers: layers.map(
        (words) => new Uint8Array(words.buffer, words.byteOffset, words.byteLength),
      ),
      capacities,
      counts,
    };
  },
  verify: (shard) => shard.verify(),
  snapshot: (shard) => shard.snapshot(),
  async backupCut(shard, dir) {
    failpoint(failpointNames.shardBackupBefore);
    const { sequence, done } = await shard.beginBackup(dir);
    backupsCopying.set(dir, done);
    return { sequence };
  },
  backupDone(_shard, dir) {
    const done = backupsCopying.get(dir);
    // A worker started after the cut (a restart) has no copy of it: the backup is lost, the
    // shard is not.
    if (done === undefined)
      throw new LedgerError('SHARD_UNAVAILABLE', {
        shard: data.shard,
        dir,
        problem: 'the shard restarted during the backup',
      });
    backupsCopying.delete(dir);
    return done;
  },
  close: (shard) => close(shard),
  armFailpoint(_shard, name, options) {
    armFailpoint(name, options);
    return null;
  },
  disarmFailpoints() {
    disarmAllFailpoints();
    return null;
  },
};

async function execute<Op extends ShardOp>(request: ShardRequest<Op>): Promise<ShardOpResult<Op>> {
  const shard = engine;
  if (shard === undefined) throw new LedgerError('LEDGER_CLOSED', { shard: data.shard });
  const handler: ShardHandlers[Op] = handlers[request.op];
  return await handler(shard, ...request.args);
}

async function close(shard: ShardEngine): Promise<null> {
  engine = undefined;
  // The replica first: a shard whose stream lost its quorum must still close.
  await replica?.replicator.close();
  await shard.close();
  await closeReplica(replica);
  // Nothing is left to do: let the thread end once the reply is flushed.
  setImmediate(() => port?.close());
  return null;
}

/** The identity check's options, with the account router built here from the map. */
function identityOf(wire: ShardIdentityWire): ShardIdentityExpectation {
  const partitions = new PartitionMap({ shards: wire.shards, partitionMap: wire.partitionMap });
  const { shards: _shards, partitionMap: _map, ...identity } = wire;
  return { ...identity, accountHome: (accountId) => partitions.shardOf(accountId) };
}
