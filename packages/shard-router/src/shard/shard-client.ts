// The main-thread side of one shard: a typed method per shard operation (ShardOps), over one
// long-lived worker thread (worker-lifecycle.ts: plain worker_threads, not piscina: a shard needs
// affinity to one thread that never idles out, and piscina's useAtomics parks the worker's event
// loop so unawaited LMDB commits stall) and the coalescing queue of its submits (send-queue.ts).
// Reads wait for the writes answered before them (holdReadsUntil); a backup's barrier can hold
// every send (holdSends).

import {
  LedgerError,
  limits,
  type Command,
  type CommandResult,
  type EngineInfo,
  type SequencedEvent,
} from '@shardledger/ledger-core';
import {
  assert,
  readEventRecord,
  CommandBatchBuilder,
  type IdFilterSnapshot,
} from '@shardledger/ledger-core/internals';
import type { FailpointOptions } from '../failpoints.js';
import { SendQueue, type SubmitResults } from './send-queue.js';
import { WorkerLifecycle, type ShardRestartEvent } from './worker-lifecycle.js';
import type {
  ShardEngineWireOptions,
  ShardOp,
  ShardOpArgs,
  ShardOpResult,
} from './shard-protocol.js';

/** Default submit messages in flight per shard: one committing, more queued behind it. */
const inFlightMessagesDefault = 4;
const closeTimeoutMs = 10_000;

export interface ShardClientOptions {
  readonly shard: number;
  /** The shard's own dir (manifest.ts shardDir). */
  readonly dir: string;
  readonly engine?: ShardEngineWireOptions;
  /** Submit messages in flight at once (default 4). */
  readonly inFlightMessagesMax?: number;
  /** Commands queued or in flight beyond which submit rejects with QUEUE_FULL. */
  readonly queueDepthMax?: number;
  /** Failpoints armed in the first worker before its engine opens ("name=action@N,..."). */
  readonly failpoints?: string;
  /** The worker's young generation in MB (V8's default when absent). */
  readonly youngGenerationMb?: number;
  /** Called after a crashed worker was replaced and its engine recovered. */
  readonly onRestart?: (event: ShardRestartEvent) => void;
}

/** An op the client sends as a request of its own (submits go through the queue). */
type RequestOp = Exclude<ShardOp, 'submit' | 'close'>;

export class ShardClient {
  readonly shard: number;
  /** The shard's own dir (its snapshots are read from it by a resumed change feed). */
  readonly dir: string;
  readonly #worker: WorkerLifecycle;
  readonly #queue: SendQueue;

  /** Writes this shard has acknowledged to a caller but not applied yet (a saga's commit or
   * release steps, sent once its outcome is decided: saga/saga-coordinator.ts). Reads wait for the
   * ones registered before them, so a caller reads its own writes. */
  readonly #unappliedWrites = new Set<Promise<unknown>>();

  /** While above 0 (a backup's barrier, backup.ts), nothing new is posted to the worker: submits
   * stay queued and other requests wait in #heldSends until releaseSends. */
  #sendsHeld = 0;
  #heldSends: (() => void)[] = [];

  #closing = false;
  #closePromise: Promise<void> | undefined;
  #drainWaiters: (() => void)[] = [];

  private constructor(options: ShardClientOptions) {
    this.shard = options.shard;
    this.dir = options.dir;
    this.#worker = new WorkerLifecycle(options, {
      onReady: () => this.#queue.flush(),
      onFailed: (error) => this.#queue.failQueued(error),
      onSettled: () => this.#checkDrained(),
    });
    this.#queue = new SendQueue(
      this.#worker,
      {
        inFlightMessagesMax: options.inFlightMessagesMax ?? inFlightMessagesDefault,
        queueDepthMax: options.queueDepthMax ?? limits.queueDepthMax,
      },
      () => this.#sendsHeld > 0,
    );
    if (options.onRestart !== undefined) this.#worker.restartListeners.add(options.onRestart);
  }

  /** Starts the worker and resolves once its engine has opened (recovered from its log). */
  static async open(options: ShardClientOptions): Promise<ShardClient> {
    const client = new ShardClient(options);
    client.#worker.spawn();
    try {
      await client.#worker.whenReady();
    } catch (error) {
      await client.#worker.worker?.terminate();
      throw error;
    }
    return client;
  }

  /** 0 for the first worker, +1 per restart. */
  get generation(): number {
    return this.#worker.generation;
  }

  /** Commands waiting or in flight. */
  get outstandingCommands(): number {
    return this.#queue.outstandingCommands;
  }

  /** Submit messages posted so far (calls / messages = the coalescing factor). */
  get submitMessagesSent(): number {
    return this.#queue.messagesSent;
  }

  /** The engine info reported when the current worker opened. */
  get openedInfo(): EngineInfo | undefined {
    return this.#worker.info;
  }

  /** Adds a restart listener; returns a function that removes it. */
  onRestart(listener: (event: ShardRestartEvent) => void): () => void {
    const listeners = this.#worker.restartListeners;
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  /** Runs `commands` in order on the shard; one result per command, in order. Concurrent calls
   * share messages; each call's commands stay contiguous and in call order. */
  async submit(commands: readonly Command[]): Promise<CommandResult[]> {
    if (!Array.isArray(commands)) throw new LedgerError('INVALID_ARGUMENT', { field: 'commands' });
    // submitBatch checks the rest (closed, failed, size, queue depth).
    const batch = new CommandBatchBuilder(commands.length);
    for (const command of commands) batch.add(command);
    const { view, start, count } = await this.submitBatch(batch);
    return view.results(start, count);
  }

  /** submit() for commands already laid out as a batch (the router's hot path: plain transfers
   * go in without a command object); the results stay in their wire form until read. The
   * batch is the client's from here on. */
  submitBatch(batch: CommandBatchBuilder): Promise<SubmitResults> {
    if (this.#closing)
      return Promise.reject(new LedgerError('LEDGER_CLOSED', { shard: this.shard }));
    const failure = this.#worker.failure;
    if (failure !== undefined) return Promise.reject(failure);
    return this.#queue.enqueue(batch);
  }

  /** Registers writes already answered to their caller but still on their way to the worker
   * (queued in order ahead of any later submit); reads of this shard issued from now on wait
   * until they have settled. */
  holdReadsUntil(writes: Promise<unknown>): void {
    const settled = writes.then(
      () => undefined,
      () => undefined,
    );
    this.#unappliedWrites.add(settled);
    void settled.then(() => this.#unappliedWrites.delete(settled));
  }

  /** #call for a read: first waits for the writes registered by holdReadsUntil before it. */
  async #read<Op extends RequestOp>(
    op: Op,
    args: ShardOpArgs<Op>,
    ahead = false,
  ): Promise<ShardOpResult<Op>> {
    if (this.#unappliedWrites.size > 0) await Promise.all([...this.#unappliedWrites]);
    return this.#call(op, args, ahead);
  }

  /** lookupTransfers sent once every submit queued before this call has been sent (or failed):
   * the worker runs requests in arrival order, so the lookup sees their writes. The router's
   * transfer-id check uses it (write/id-check.ts). */
  async lookupTransfersBehindWrites(
    ids: readonly string[],
  ): Promise<ShardOpResult<'lookupTransfers'>> {
    await this.#queue.whenTaken();
    return this.#read('lookupTransfers', [ids]);
  }

  /** lookupTransfers that the worker runs on arrival, ahead of the submits queued or in flight:
   * it sees the writes applied so far and none of the others. For the router's transfer-id check
   * when no write in flight may be writing the ids (write/id-check.ts), so that the lookup does not
   * wait for them. */
  lookupTransfersAhead(ids: readonly string[]): Promise<ShardOpResult<'lookupTransfers'>> {
    return this.#read('lookupTransfers', [ids], true);
  }

  lookupAccounts(...args: ShardOpArgs<'lookupAccounts'>): Promise<ShardOpResult<'lookupAccounts'>> {
    return this.#read('lookupAccounts', args);
  }
  listAccounts(...args: ShardOpArgs<'listAccounts'>): Promise<ShardOpResult<'listAccounts'>> {
    return this.#read('listAccounts', args);
  }
  lookupTransfers(ids: readonly string[]): Promise<ShardOpResult<'lookupTransfers'>> {
    return this.#read('lookupTransfers', [ids]);
  }
  openHolds(ids: readonly string[]): Promise<ShardOpResult<'openHolds'>> {
    return this.#read('openHolds', [ids]);
  }
  /** The saga's open reservation on this shard, behind the writes queued before it. */
  reservation(...args: ShardOpArgs<'reservation'>): Promise<ShardOpResult<'reservation'>> {
    return this.#call('reservation', args);
  }
  sagaOutcome(...args: ShardOpArgs<'sagaOutcome'>): Promise<ShardOpResult<'sagaOutcome'>> {
    return this.#call('sagaOutcome', args);
  }
  openReservations(): Promise<ShardOpResult<'openReservations'>> {
    return this.#call('openReservations', []);
  }
  accountHistory(...args: ShardOpArgs<'accountHistory'>): Promise<ShardOpResult<'accountHistory'>> {
    return this.#read('accountHistory', args);
  }
  balanceAsOf(...args: ShardOpArgs<'balanceAsOf'>): Promise<ShardOpResult<'balanceAsOf'>> {
    return this.#read('balanceAsOf', args);
  }
  /** Events after a sequence number. The shard ships its encoded log records and they are
   * decoded here, so a reader (export, the read model) costs the shard's thread a copy only.
   * Behind the writes answered before it, as every read: the steps of a transfer between shards
   * that its caller was answered for are in the events read after the answer. */
  async readEvents(afterSequence: number, limit: number): Promise<ShardOpResult<'readEvents'>> {
    const records = await this.#read('readRecords', [afterSequence, limit]);
    const events: SequencedEvent[] = [];
    // Only the events asked for are built: the first record may start before them, the last run
    // past them.
    for (const bytes of records) {
      const record = readEventRecord(bytes);
      const from = Math.max(0, afterSequence + 1 - record.first);
      for (let index = from; index < record.count && events.length < limit; index += 1)
        events.push({ sequence: record.first + index, event: record.event(index) });
    }
    return events;
  }
  /** Raw records past a sequence and the shard's last sequence (ShardOps), decoded by the caller
   * off the shard's thread; behind the writes answered before it, as every read. */
  readNewRecords(...args: ShardOpArgs<'readNewRecords'>): Promise<ShardOpResult<'readNewRecords'>> {
    return this.#read('readNewRecords', args);
  }
  logDigestAt(sequence: number): Promise<ShardOpResult<'logDigestAt'>> {
    return this.#read('logDigestAt', [sequence]);
  }
  sequenceAt(timestamp: bigint): Promise<ShardOpResult<'sequenceAt'>> {
    return this.#read('sequenceAt', [timestamp]);
  }
  verify(): Promise<ShardOpResult<'verify'>> {
    return this.#read('verify', []);
  }
  snapshot(): Promise<ShardOpResult<'snapshot'>> {
    return this.#call('snapshot', []);
  }
  /** Stops posting to the worker until releaseSends (calls go on queueing); nests. */
  holdSends(): void {
    this.#sendsHeld += 1;
  }

  releaseSends(): void {
    assert(this.#sendsHeld > 0, 'releaseSends follows holdSends');
    this.#sendsHeld -= 1;
    if (this.#sendsHeld > 0) return;
    const held = this.#heldSends;
    this.#heldSends = [];
    for (const send of held) send();
    this.#queue.flush();
  }

  /** Resolves once no request posted to the worker is unanswered (or the shard failed for good):
   * with sends held, the worker then has applied, and answered, everything it was sent. */
  whenIdle(): Promise<void> {
    return this.#worker.whenIdle();
  }

  /** Opens this shard's backup cut into `dir` (ShardOps.backupCut). Posted even while sends are
   * held: the barrier that holds them waits for it. Not behind holdReadsUntil's writes either:
   * those are saga steps the barrier holds, and the copy settles their sagas when it opens. */
  async backupCut(dir: string): Promise<ShardOpResult<'backupCut'>> {
    if (this.#closing) throw new LedgerError('LEDGER_CLOSED', { shard: this.shard });
    await this.#worker.whenReady();
    return this.#send('backupCut', [dir], false, true);
  }

  backupDone(dir: string): Promise<ShardOpResult<'backupDone'>> {
    return this.#call('backupDone', [dir]);
  }
  info(): Promise<ShardOpResult<'info'>> {
    return this.#read('info', []);
  }
  /** A copy of the filter of the transfer ids the shard knows (ShardEngine.transferIdFilter). */
  async transferIdFilter(): Promise<IdFilterSnapshot> {
    const { layers, capacities, counts } = await this.#call('transferIdFilter', []);
    // Copied into fresh buffers: the decoded bytes need not be aligned for 32-bit words.
    return {
      layers: layers.map((bytes) => new Uint32Array(Uint8Array.from(bytes).buffer)),
      capacities,
      counts,
    };
  }

  /** Arms a failpoint inside the current worker (a restarted worker starts unarmed). */
  async armFailpoint(name: string, options: FailpointOptions): Promise<void> {
    await this.#call('armFailpoint', [name, options]);
  }

  async disarmFailpoints(): Promise<void> {
    await this.#call('disarmFailpoints', []);
  }

  /** Lets queued and in-flight calls finish, closes the engine and ends the worker. New calls
   * reject with LEDGER_CLOSED. Idempotent. */
  close(): Promise<void> {
    this.#closing = true;
    this.#closePromise ??= this.#closeNow();
    return this.#closePromise;
  }

  async #closeNow(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#drainWaiters.push(resolve);
      this.#checkDrained();
    });
    // A worker being restarted must come up to be closed (and not be left running).
    while (!this.#worker.isReady) {
      try {
        await this.#worker.whenReady();
      } catch {
        return; // Failed for good: no worker is left.
      }
    }
    const worker = this.#worker.worker;
    if (worker === undefined) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    this.#worker.closeSent = true;
    try {
      await this.#send('close', []);
      await Promise.race([exited, delay(closeTimeoutMs)]);
    } catch {
      // The worker died while closing: the engine is crash-safe, nothing is lost.
    } finally {
      await worker.terminate();
    }
  }

  /** `ahead`: the worker runs the request on arrival (ShardRequest.ahead; lookupTransfers only). */
  async #call<Op extends RequestOp>(
    op: Op,
    args: ShardOpArgs<Op>,
    ahead = false,
  ): Promise<ShardOpResult<Op>> {
    if (this.#closing) throw new LedgerError('LEDGER_CLOSED', { shard: this.shard });
    await this.#worker.whenReady();
    return this.#send(op, args, ahead);
  }

  /** Posts one request, or, while sends are held and it may not pass them, keeps it until they
   * are released. */
  #send<Op extends Exclude<ShardOp, 'submit'>>(
    op: Op,
    args: ShardOpArgs<Op>,
    ahead = false,
    pastHold = false,
  ): Promise<ShardOpResult<Op>> {
    if (this.#sendsHeld > 0 && !pastHold) {
      return new Promise((resolve) => {
        this.#heldSends.push(() =>
          resolve(this.#worker.whenReady().then(() => this.#send(op, args, ahead))),
        );
      });
    }
    if (!this.#worker.isReady)
      return Promise.reject(new LedgerError('SHARD_UNAVAILABLE', { shard: this.shard }));
    return new Promise((resolve, reject) => {
      this.#worker.post(op, args, { answer: resolve, fail: reject }, ahead);
    });
  }

  #checkDrained(): void {
    this.#worker.wakeIdleWaiters();
    if (this.#drainWaiters.length === 0) return;
    const idle = this.#worker.inFlightCount === 0 && this.#queue.isEmpty;
    if (!idle && !this.#worker.isFailed) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
