// The main-thread side of one shard: owns one long-lived worker thread (plain worker_threads, not
// piscina: a shard needs affinity to one thread that never idles out, and piscina's useAtomics
// parks the worker's event loop so unawaited LMDB commits stall).
//
// Concurrent submit() calls are coalesced into messages of up to limits.batchSizeMax commands, and
// up to inFlightMessagesMax messages are in flight, so the worker always has the next batch ready.
// A worker that dies fails its in-flight calls with SHARD_UNAVAILABLE (retryable: resubmitting the
// same ids is idempotent) and is replaced by a new one, which recovers from the log; calls made
// meanwhile wait for it.

import { Worker } from 'node:worker_threads';
import {
  LedgerError,
  assert,
  decodeEventRecord,
  CommandBatchBuilder,
  ResultBatchView,
  errorFromWire,
  limits,
  type Command,
  type CommandResult,
  type EngineInfo,
  type SequencedEvent,
} from '@shardledger/ledger-core';
import { failpoint, failpointNames, type FailpointOptions } from '../failpoints.js';
import { workerSource } from '../worker-entry.js';
import {
  createPackr,
  decodeMessage,
  encodeMessage,
  type ShardEngineWireOptions,
  type ShardOp,
  type ShardOpArgs,
  type ShardOpResult,
  type ShardReadyMessage,
  type ShardReply,
  type ShardWorkerData,
} from './shard-protocol.js';

/** Default submit messages in flight per shard: one committing, more queued behind it. */
const inFlightMessagesDefault = 4;
/** Consecutive failed restarts before the client gives up and fails every call. */
const restartAttemptsMax = 5;
const restartBackoffMs = 50;
const closeTimeoutMs = 10_000;

const workerUrl = import.meta.resolve('@shardledger/shard-router/worker');

export interface ShardRestartEvent {
  readonly shard: number;
  /** The new worker's generation (1 for the first restart). */
  readonly generation: number;
  /** Exit code of the worker that died. */
  readonly exitCode: number;
  /** The recovered engine's info. */
  readonly info: EngineInfo;
}

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
  /** Called after a crashed worker was replaced and its engine recovered. */
  readonly onRestart?: (event: ShardRestartEvent) => void;
}

/** One submit's results: `count` results of a message's result batch from `start` on. */
export interface SubmitResults {
  readonly view: ResultBatchView;
  readonly start: number;
  readonly count: number;
}

interface PendingSubmit {
  /** Dropped (null) once encoded into a message: the caller's commands then die young instead
   * of surviving, and being copied by, the scavenges of the round trip. */
  batch: CommandBatchBuilder | null;
  readonly count: number;
  readonly resolve: (results: SubmitResults) => void;
  readonly reject: (error: unknown) => void;
}

type InFlight =
  | { readonly kind: 'submit'; readonly callers: readonly PendingSubmit[]; readonly count: number }
  | {
      readonly kind: 'op';
      readonly resolve: (value: unknown) => void;
      readonly reject: (error: unknown) => void;
    };

type WorkerState = 'starting' | 'ready' | 'dead' | 'failed';

export class ShardClient {
  readonly shard: number;
  readonly #options: ShardClientOptions;
  readonly #inFlightMessagesMax: number;
  readonly #queueDepthMax: number;
  readonly #packr = createPackr();
  readonly #restartListeners = new Set<(event: ShardRestartEvent) => void>();

  #worker: Worker | undefined;
  #workerState: WorkerState = 'starting';
  #generation = 0;
  #restartFailures = 0;
  #lastExitCode = 0;
  #openError: LedgerError | undefined;
  #failure: LedgerError | undefined;
  #info: EngineInfo | undefined;
  #readyWaiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];

  #nextId = 1;
  readonly #inFlight = new Map<number, InFlight>();
  #inFlightSubmits = 0;
  /** FIFO of submits not yet sent; `#queueHead` avoids O(n) shifts. */
  #queue: PendingSubmit[] = [];
  #queueHead = 0;
  /** Submits ever taken off the queue (sent, or failed with the shard): a read waiting for the
   * first n to be taken (lookupTransfersBehindWrites) waits in #takenWaiters. */
  #submitsTaken = 0;
  #takenWaiters: { readonly target: number; readonly resolve: () => void }[] = [];
  /** Commands queued or in flight (bounded by queueDepthMax). */
  #outstandingCommands = 0;
  #flushScheduled = false;
  #submitMessagesSent = 0;

  /** Writes this shard has acknowledged to a caller but not applied yet (a saga's commit or
   * release steps, sent once its outcome is decided: saga-coordinator.ts). Reads wait for the
   * ones registered before them, so a caller reads its own writes. */
  readonly #unappliedWrites = new Set<Promise<unknown>>();

  /** While above 0 (a backup's barrier, backup.ts), nothing new is posted to the worker: submits
   * stay queued and other requests wait in #heldSends until releaseSends. */
  #sendsHeld = 0;
  #heldSends: (() => void)[] = [];
  #idleWaiters: (() => void)[] = [];

  #closing = false;
  #closeSent = false;
  #closePromise: Promise<void> | undefined;
  #drainWaiters: (() => void)[] = [];

  private constructor(options: ShardClientOptions) {
    this.shard = options.shard;
    this.#options = options;
    this.#inFlightMessagesMax = options.inFlightMessagesMax ?? inFlightMessagesDefault;
    this.#queueDepthMax = options.queueDepthMax ?? limits.queueDepthMax;
    assert(this.#inFlightMessagesMax >= 1, 'inFlightMessagesMax >= 1');
    assert(this.#queueDepthMax >= limits.batchSizeMax, 'queueDepthMax holds one full batch');
    if (options.onRestart !== undefined) this.#restartListeners.add(options.onRestart);
  }

  /** Starts the worker and resolves once its engine has opened (recovered from its log). */
  static async open(options: ShardClientOptions): Promise<ShardClient> {
    const client = new ShardClient(options);
    client.#spawn();
    try {
      await client.#whenReady();
    } catch (error) {
      await client.#worker?.terminate();
      throw error;
    }
    return client;
  }

  /** 0 for the first worker, +1 per restart. */
  get generation(): number {
    return this.#generation;
  }

  /** Commands waiting or in flight. */
  get outstandingCommands(): number {
    return this.#outstandingCommands;
  }

  /** Submit messages posted so far (calls / messages = the coalescing factor). */
  get submitMessagesSent(): number {
    return this.#submitMessagesSent;
  }

  /** The engine info reported when the current worker opened. */
  get openedInfo(): EngineInfo | undefined {
    return this.#info;
  }

  /** Adds a restart listener; returns a function that removes it. */
  onRestart(listener: (event: ShardRestartEvent) => void): () => void {
    this.#restartListeners.add(listener);
    return () => this.#restartListeners.delete(listener);
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
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const count = batch.count;
    if (count > limits.batchSizeMax)
      return Promise.reject(new LedgerError('BATCH_TOO_LARGE', { size: count }));
    if (count === 0) return Promise.resolve({ view: ResultBatchView.empty, start: 0, count: 0 });
    if (this.#outstandingCommands + count > this.#queueDepthMax) {
      return Promise.reject(
        new LedgerError('QUEUE_FULL', { shard: this.shard, queueDepthMax: this.#queueDepthMax }),
      );
    }
    this.#outstandingCommands += count;
    return new Promise((resolve, reject) => {
      this.#queue.push({ batch, count, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
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
  async #read<Op extends Exclude<ShardOp, 'submit' | 'close'>>(
    op: Op,
    args: ShardOpArgs<Op>,
    ahead = false,
  ): Promise<ShardOpResult<Op>> {
    if (this.#unappliedWrites.size > 0) await Promise.all([...this.#unappliedWrites]);
    return this.#call(op, args, ahead);
  }

  /** lookupTransfers sent once every submit queued before this call has been sent (or failed):
   * the worker runs requests in arrival order, so the lookup sees their writes. The router's
   * transfer-id check uses it (transfer-id-guard.ts). */
  async lookupTransfersBehindWrites(
    ids: readonly string[],
  ): Promise<ShardOpResult<'lookupTransfers'>> {
    const target = this.#submitsTaken + (this.#queue.length - this.#queueHead);
    if (this.#submitsTaken < target)
      await new Promise<void>((resolve) => this.#takenWaiters.push({ target, resolve }));
    return this.#read('lookupTransfers', [ids]);
  }

  /** lookupTransfers that the worker runs on arrival, ahead of the submits queued or in flight:
   * it sees the writes applied so far and none of the others. For the router's transfer-id check
   * when no write in flight can hold the ids (transfer-id-guard.ts), so that the lookup does not
   * wait for them. */
  lookupTransfersAhead(ids: readonly string[]): Promise<ShardOpResult<'lookupTransfers'>> {
    return this.#read('lookupTransfers', [ids], true);
  }

  #wakeTakenWaiters(): void {
    if (this.#takenWaiters.length === 0) return;
    const waiting: { readonly target: number; readonly resolve: () => void }[] = [];
    for (const waiter of this.#takenWaiters) {
      if (this.#submitsTaken >= waiter.target) waiter.resolve();
      else waiting.push(waiter);
    }
    this.#takenWaiters = waiting;
  }

  lookupAccounts(...args: ShardOpArgs<'lookupAccounts'>): Promise<ShardOpResult<'lookupAccounts'>> {
    return this.#read('lookupAccounts', args);
  }
  lookupTransfers(
    ...args: ShardOpArgs<'lookupTransfers'>
  ): Promise<ShardOpResult<'lookupTransfers'>> {
    return this.#read('lookupTransfers', args);
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
   * decoded here, so a reader (export, the read model) costs the shard's thread a copy only. */
  async readEvents(afterSequence: number, limit: number): Promise<ShardOpResult<'readEvents'>> {
    const records = await this.#call('readRecords', [afterSequence, limit]);
    const events: SequencedEvent[] = [];
    for (const bytes of records) {
      const record = decodeEventRecord(bytes);
      record.events.forEach((event, index) => {
        const sequence = record.first + index;
        if (sequence > afterSequence && events.length < limit) events.push({ sequence, event });
      });
    }
    return events;
  }
  /** Raw records past a sequence number and the shard's last sequence (see ShardOps), for a
   * reader that decodes them on a thread of its own (the read model's projector). */
  readNewRecords(
    afterSequence: number,
    limitEvents: number,
  ): Promise<ShardOpResult<'readNewRecords'>> {
    return this.#call('readNewRecords', [afterSequence, limitEvents]);
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
    this.#flush();
  }

  /** Resolves once no request posted to the worker is unanswered (or the shard failed for good):
   * with sends held, the worker then has applied, and answered, everything it was sent. */
  whenIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Opens this shard's backup cut into `dir` (ShardOps.backupCut). Posted even while sends are
   * held: the barrier that holds them waits for it. Not behind holdReadsUntil's writes either:
   * those are saga steps the barrier holds, and the copy settles their sagas when it opens. */
  async backupCut(dir: string): Promise<ShardOpResult<'backupCut'>> {
    if (this.#closing) throw new LedgerError('LEDGER_CLOSED', { shard: this.shard });
    await this.#whenReady();
    return this.#send('backupCut', [dir], false, true);
  }

  backupDone(dir: string): Promise<ShardOpResult<'backupDone'>> {
    return this.#call('backupDone', [dir]);
  }
  info(): Promise<ShardOpResult<'info'>> {
    return this.#read('info', []);
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
    while (this.#workerState !== 'ready') {
      try {
        await this.#whenReady();
      } catch {
        return; // Failed for good: no worker is left.
      }
    }
    const worker = this.#worker;
    if (worker === undefined) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    this.#closeSent = true;
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
  async #call<Op extends Exclude<ShardOp, 'submit' | 'close'>>(
    op: Op,
    args: ShardOpArgs<Op>,
    ahead = false,
  ): Promise<ShardOpResult<Op>> {
    if (this.#closing) throw new LedgerError('LEDGER_CLOSED', { shard: this.shard });
    await this.#whenReady();
    return this.#send(op, args, ahead);
  }

  #send<Op extends ShardOp>(
    op: Op,
    args: ShardOpArgs<Op>,
    ahead = false,
    pastHold = false,
  ): Promise<ShardOpResult<Op>> {
    if (this.#sendsHeld > 0 && !pastHold) {
      return new Promise((resolve) => {
        this.#heldSends.push(() =>
          resolve(this.#whenReady().then(() => this.#send(op, args, ahead))),
        );
      });
    }
    const worker = this.#worker;
    if (worker === undefined || this.#workerState !== 'ready') {
      return Promise.reject(new LedgerError('SHARD_UNAVAILABLE', { shard: this.shard }));
    }
    const id = this.#nextId++;
    let buffer: ArrayBuffer;
    try {
      buffer = encodeMessage(this.#packr, ahead ? { id, op, args, ahead: true } : { id, op, args });
    } catch (error) {
      // Encoded before it is registered in flight: arguments that cannot be encoded (a symbol)
      // fail this call alone, and close() does not wait for a reply that never comes.
      return Promise.reject(
        new LedgerError('INVALID_ARGUMENT', { op, problem: String((error as Error).message) }),
      );
    }
    return new Promise((resolve, reject) => {
      this.#inFlight.set(id, { kind: 'op', resolve: resolve as (value: unknown) => void, reject });
      worker.postMessage(buffer, [buffer]);
    });
  }

  #whenReady(): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#workerState === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => this.#readyWaiters.push({ resolve, reject }));
  }

  /** Sends queued submits, as many messages as the in-flight bound allows. */
  #flush(): void {
    this.#flushScheduled = false;
    if (this.#sendsHeld > 0) return; // Sent by releaseSends.
    const worker = this.#worker;
    if (worker === undefined || this.#workerState !== 'ready') return; // Sent once ready.
    while (
      this.#inFlightSubmits < this.#inFlightMessagesMax &&
      this.#queueHead < this.#queue.length
    ) {
      const callers: PendingSubmit[] = [];
      let count = 0;
      while (this.#queueHead < this.#queue.length) {
        const next = this.#queue[this.#queueHead] as PendingSubmit;
        if (count + next.count > limits.batchSizeMax) break;
        callers.push(next);
        count += next.count;
        this.#queueHead++;
        this.#submitsTaken += 1;
      }
      assert(callers.length > 0, 'every queued call fits one message');
      this.#postSubmit(worker, callers, count);
    }
    this.#wakeTakenWaiters();
    if (this.#queueHead === this.#queue.length) {
      this.#queue = [];
      this.#queueHead = 0;
    } else if (this.#queueHead > 1_024 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#queueHead);
      this.#queueHead = 0;
    }
  }

  #postSubmit(worker: Worker, callers: readonly PendingSubmit[], count: number): void {
    // The callers' batches are the client's: the first one takes the others' commands.
    const batch = (callers[0] as PendingSubmit).batch as CommandBatchBuilder;
    for (let index = 1; index < callers.length; index += 1)
      batch.append((callers[index] as PendingSubmit).batch as CommandBatchBuilder);
    assert(batch.count === count, "a message holds its callers' commands");
    try {
      failpoint(failpointNames.clientSubmitBeforePost);
    } catch (error) {
      this.#outstandingCommands -= count;
      for (const caller of callers) caller.reject(error);
      return;
    }
    const id = this.#nextId++;
    this.#inFlight.set(id, { kind: 'submit', callers, count });
    this.#inFlightSubmits++;
    this.#submitMessagesSent++;
    // Commands travel columnar (batch-codec.ts), not as thousands of msgpackr objects.
    const buffer = encodeMessage(this.#packr, { id, op: 'submit', args: [batch.encode()] });
    for (const caller of callers) caller.batch = null;
    worker.postMessage(buffer, [buffer]);
  }

  #onMessage(buffer: ArrayBuffer): void {
    const reply = decodeMessage(this.#packr, buffer) as ShardReply | ShardReadyMessage;
    if (reply.id === 0) {
      this.#onReady(reply as ShardReadyMessage);
      return;
    }
    const entry = this.#inFlight.get(reply.id);
    assert(entry !== undefined, 'a reply matches a request in flight');
    this.#inFlight.delete(reply.id);
    if (entry.kind === 'op') {
      if (reply.ok) entry.resolve(reply.value);
      else entry.reject(errorFromWire(reply.error));
    } else {
      this.#inFlightSubmits--;
      this.#outstandingCommands -= entry.count;
      this.#settleSubmit(entry.callers, reply);
      this.#flush();
    }
    this.#checkDrained();
  }

  #settleSubmit(callers: readonly PendingSubmit[], reply: ShardReply): void {
    if (!reply.ok) {
      // One message is one group commit: an operational error fails the whole message.
      const error = errorFromWire(reply.error);
      for (const caller of callers) caller.reject(error);
      return;
    }
    const view = new ResultBatchView(reply.value as Uint8Array);
    let start = 0;
    for (const caller of callers) {
      caller.resolve({ view, start, count: caller.count });
      start += caller.count;
    }
    assert(start === view.count, 'one result per command');
  }

  #onReady(message: ShardReadyMessage): void {
    if (!message.ok) {
      this.#openError = errorFromWire(message.error); // The worker exits right after.
      return;
    }
    this.#workerState = 'ready';
    this.#restartFailures = 0;
    this.#info = message.value.info;
    const waiters = this.#readyWaiters;
    this.#readyWaiters = [];
    for (const waiter of waiters) waiter.resolve();
    // Queued calls go out before listeners run: a throwing listener must not stall the shard.
    this.#flush();
    if (this.#generation > 0) {
      const event: ShardRestartEvent = {
        shard: this.shard,
        generation: this.#generation,
        exitCode: this.#lastExitCode,
        info: message.value.info,
      };
      for (const listener of this.#restartListeners) listener(event);
    }
  }

  #spawn(): void {
    const generation = this.#generation;
    const workerData: ShardWorkerData = {
      shard: this.shard,
      dir: this.#options.dir,
      engine: this.#options.engine ?? {},
      generation,
      ...(generation === 0 && this.#options.failpoints !== undefined
        ? { failpoints: this.#options.failpoints }
        : {}),
    };
    const worker = new Worker(workerSource(workerUrl), {
      eval: true,
      workerData,
      name: `shard-${this.shard}`,
    });
    this.#worker = worker;
    this.#workerState = 'starting';
    this.#openError = undefined;
    worker.on('message', (buffer: ArrayBuffer) => {
      if (this.#worker === worker) this.#onMessage(buffer);
    });
    worker.on('error', (error: Error) => {
      // An uncaught throw in the worker: 'exit' follows and handles it.
      if (this.#worker === worker)
        this.#openError ??= new LedgerError('SHARD_UNAVAILABLE', {
          shard: this.shard,
          problem: error.message,
        });
    });
    worker.on('exit', (exitCode: number) => {
      if (this.#worker === worker) this.#onExit(exitCode);
    });
  }

  #onExit(exitCode: number): void {
    const wasReady = this.#workerState === 'ready';
    this.#worker = undefined;
    this.#workerState = 'dead';
    this.#lastExitCode = exitCode;
    const unavailable = new LedgerError('SHARD_UNAVAILABLE', {
      shard: this.shard,
      exitCode,
      generation: this.#generation,
    });
    const inFlight = [...this.#inFlight.values()];
    this.#inFlight.clear();
    this.#inFlightSubmits = 0;
    for (const entry of inFlight) {
      if (entry.kind === 'op') {
        entry.reject(unavailable);
        continue;
      }
      this.#outstandingCommands -= entry.count;
      for (const caller of entry.callers) caller.reject(unavailable);
    }
    this.#wakeIdleWaiters();
    if (this.#closeSent) return;
    if (!wasReady) this.#restartFailures++;
    const neverOpened = this.#generation === 0 && !wasReady;
    if (neverOpened || this.#restartFailures > restartAttemptsMax) {
      this.#fail(this.#openError ?? unavailable);
      return;
    }
    this.#generation++;
    setTimeout(() => this.#spawn(), restartBackoffMs * this.#restartFailures);
    this.#checkDrained();
  }

  /** The shard cannot be opened: every waiting and future call fails with `error`. */
  #fail(error: LedgerError): void {
    this.#workerState = 'failed';
    this.#failure = error;
    const waiters = this.#readyWaiters;
    this.#readyWaiters = [];
    for (const waiter of waiters) waiter.reject(error);
    for (let index = this.#queueHead; index < this.#queue.length; index++) {
      const caller = this.#queue[index] as PendingSubmit;
      this.#outstandingCommands -= caller.count;
      this.#submitsTaken += 1;
      caller.reject(error);
    }
    this.#queue = [];
    this.#queueHead = 0;
    this.#wakeTakenWaiters();
    this.#checkDrained();
  }

  #isIdle(): boolean {
    return this.#inFlight.size === 0 || this.#workerState === 'failed';
  }

  #wakeIdleWaiters(): void {
    if (this.#idleWaiters.length === 0 || !this.#isIdle()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #checkDrained(): void {
    this.#wakeIdleWaiters();
    if (this.#drainWaiters.length === 0) return;
    const idle = this.#inFlight.size === 0 && this.#queueHead === this.#queue.length;
    if (!idle && this.#workerState !== 'failed') return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
