// The worker thread of one shard and the requests in flight to it. It starts the worker, waits
// for its engine to open, and replaces a worker that dies: the requests in flight then fail with
// SHARD_UNAVAILABLE (retryable: resubmitting the same ids is idempotent) and the new worker
// recovers from the log; calls made meanwhile wait for it. After restartAttemptsMax failed
// restarts in a row, or when the first worker never opens, the shard fails for good.
//
// The worker keeps the process alive only while it starts or a request to it is unanswered: an
// application that is done with the ledger exits without close(), as it would with a file or a
// socket it no longer uses (what a `strict` call acknowledged is on disk; the rest of an exit is a
// crash the shard recovers from).

import { Worker } from 'node:worker_threads';
import { LedgerError, type EngineInfo } from '@shardledger/ledger-core';
import { assert, errorFromWire } from '@shardledger/ledger-core/internals';
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

/** Consecutive failed restarts before the client gives up and fails every call. */
const restartAttemptsMax = 5;
const restartBackoffMs = 50;

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

/** A request posted to the worker, waiting for its reply: its answer is the op's (ShardOps). */
export interface InFlightRequest<Op extends ShardOp = ShardOp> {
  readonly answer: (value: ShardOpResult<Op>) => void;
  readonly fail: (error: unknown) => void;
}

/** What the owner of the lifecycle (ShardClient) does when the worker's state changes. */
export interface WorkerLifecycleHooks {
  /** A worker opened its engine: send what waits for it. */
  readonly onReady: () => void;
  /** The shard failed for good with `error`: fail what waits. */
  readonly onFailed: (error: LedgerError) => void;
  /** A request was answered or failed, or the worker exited. */
  readonly onSettled: () => void;
}

type WorkerState = 'starting' | 'ready' | 'dead' | 'failed';

export class WorkerLifecycle {
  readonly shard: number;
  readonly #data: Omit<ShardWorkerData, 'generation' | 'failpoints'>;
  readonly #failpoints: string | undefined;
  readonly #youngGenerationMb: number | undefined;
  readonly #hooks: WorkerLifecycleHooks;
  readonly #packr = createPackr();
  readonly restartListeners = new Set<(event: ShardRestartEvent) => void>();

  #worker: Worker | undefined;
  #state: WorkerState = 'starting';
  #generation = 0;
  #restartFailures = 0;
  #lastExitCode = 0;
  #openError: LedgerError | undefined;
  #failure: LedgerError | undefined;
  #info: EngineInfo | undefined;
  #readyWaiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  #nextId = 1;
  readonly #inFlight = new Map<number, InFlightRequest>();
  #idleWaiters: (() => void)[] = [];
  /** Whether the worker holds the process alive (worker.ref()); see the top of the file. */
  #holdsProcess = true;
  /** Set once close was sent: the worker's exit is then expected, not restarted. */
  closeSent = false;

  constructor(
    options: {
      shard: number;
      dir: string;
      engine?: ShardEngineWireOptions;
      failpoints?: string;
      youngGenerationMb?: number;
    },
    hooks: WorkerLifecycleHooks,
  ) {
    this.shard = options.shard;
    this.#data = { shard: options.shard, dir: options.dir, engine: options.engine ?? {} };
    this.#failpoints = options.failpoints;
    this.#youngGenerationMb = options.youngGenerationMb;
    this.#hooks = hooks;
  }

  /** 0 for the first worker, +1 per restart. */
  get generation(): number {
    return this.#generation;
  }

  get info(): EngineInfo | undefined {
    return this.#info;
  }

  get failure(): LedgerError | undefined {
    return this.#failure;
  }

  get isReady(): boolean {
    return this.#state === 'ready';
  }

  get isFailed(): boolean {
    return this.#state === 'failed';
  }

  /** The worker thread, whatever its state (for close and terminate). */
  get worker(): Worker | undefined {
    return this.#worker;
  }

  get inFlightCount(): number {
    return this.#inFlight.size;
  }

  whenReady(): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#state === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => this.#readyWaiters.push({ resolve, reject }));
  }

  /** Resolves once no request posted to the worker is unanswered (or the shard failed). */
  whenIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Posts one request to the ready worker; `request` gets its reply. Throws INVALID_ARGUMENT,
   * before anything is registered, for arguments that cannot be encoded (a symbol): they fail
   * that call alone, and close() does not wait for a reply that never comes. `ahead`: the worker
   * runs it on arrival (ShardRequest.ahead). */
  post<Op extends ShardOp>(
    op: Op,
    args: ShardOpArgs<Op>,
    request: InFlightRequest<Op>,
    ahead = false,
  ): void {
    const worker = this.#worker;
    assert(worker !== undefined && this.#state === 'ready', 'posted to a ready worker');
    const id = this.#nextId;
    let buffer: ArrayBuffer;
    try {
      buffer = encodeMessage(this.#packr, ahead ? { id, op, args, ahead: true } : { id, op, args });
    } catch (error) {
      throw new LedgerError('INVALID_ARGUMENT', { op, problem: String((error as Error).message) });
    }
    this.#nextId += 1;
    // The reply to `id` is the answer of `op`: the map holds requests of every op.
    this.#inFlight.set(id, request as InFlightRequest);
    this.#holdProcess(true);
    worker.postMessage(buffer, [buffer]);
  }

  /** Starts a worker (the first, or a replacement) for this shard's dir. */
  spawn(): void {
    const generation = this.#generation;
    const workerData: ShardWorkerData = {
      ...this.#data,
      generation,
      ...(generation === 0 && this.#failpoints !== undefined
        ? { failpoints: this.#failpoints }
        : {}),
    };
    const worker = new Worker(workerSource(workerUrl), {
      eval: true,
      workerData,
      name: `shard-${this.shard}`,
      ...(this.#youngGenerationMb === undefined
        ? {}
        : { resourceLimits: { maxYoungGenerationSizeMb: this.#youngGenerationMb } }),
    });
    this.#worker = worker;
    this.#holdsProcess = true; // A new worker is ref'd: it holds the process while it starts.
    this.#state = 'starting';
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

  #onMessage(buffer: ArrayBuffer): void {
    const reply = decodeMessage(this.#packr, buffer) as ShardReply | ShardReadyMessage;
    if (reply.id === 0) {
      this.#onReady(reply as ShardReadyMessage);
      return;
    }
    const answered = reply as ShardReply;
    const request = this.#inFlight.get(answered.id);
    assert(request !== undefined, 'a reply matches a request in flight');
    this.#inFlight.delete(answered.id);
    // Once close was sent, the worker holds the process until it has exited (close awaits it).
    if (this.#inFlight.size === 0 && !this.closeSent) this.#holdProcess(false);
    if (answered.ok) request.answer(answered.value);
    else request.fail(errorFromWire(answered.error));
    this.#hooks.onSettled();
  }

  #onReady(message: ShardReadyMessage): void {
    if (!message.ok) {
      this.#openError = errorFromWire(message.error); // The worker exits right after.
      return;
    }
    this.#state = 'ready';
    this.#restartFailures = 0;
    if (this.#inFlight.size === 0) this.#holdProcess(false);
    this.#info = message.value.info;
    const waiters = this.#readyWaiters;
    this.#readyWaiters = [];
    for (const waiter of waiters) waiter.resolve();
    // Queued calls go out before listeners run: a throwing listener must not stall the shard.
    this.#hooks.onReady();
    if (this.#generation > 0) {
      const event: ShardRestartEvent = {
        shard: this.shard,
        generation: this.#generation,
        exitCode: this.#lastExitCode,
        info: message.value.info,
      };
      for (const listener of this.restartListeners) listener(event);
    }
  }

  #onExit(exitCode: number): void {
    const wasReady = this.#state === 'ready';
    this.#worker = undefined;
    this.#state = 'dead';
    this.#lastExitCode = exitCode;
    const unavailable = new LedgerError('SHARD_UNAVAILABLE', {
      shard: this.shard,
      exitCode,
      generation: this.#generation,
    });
    const inFlight = [...this.#inFlight.values()];
    this.#inFlight.clear();
    for (const request of inFlight) request.fail(unavailable);
    this.wakeIdleWaiters();
    if (this.closeSent) return;
    if (!wasReady) this.#restartFailures++;
    const neverOpened = this.#generation === 0 && !wasReady;
    if (neverOpened || this.#restartFailures > restartAttemptsMax) {
      this.#fail(this.#openError ?? unavailable);
      return;
    }
    this.#generation++;
    setTimeout(() => this.spawn(), restartBackoffMs * this.#restartFailures);
    this.#hooks.onSettled();
  }

  /** The shard cannot be opened: every waiting and future call fails with `error`. */
  #fail(error: LedgerError): void {
    this.#state = 'failed';
    this.#failure = error;
    const waiters = this.#readyWaiters;
    this.#readyWaiters = [];
    for (const waiter of waiters) waiter.reject(error);
    this.#hooks.onFailed(error);
    this.#hooks.onSettled();
  }

  #isIdle(): boolean {
    return this.#inFlight.size === 0 || this.#state === 'failed';
  }

  /** ref()s or unref()s the worker on a change only (each is a call into the thread's handle). */
  #holdProcess(hold: boolean): void {
    const worker = this.#worker;
    if (worker === undefined || hold === this.#holdsProcess) return;
    this.#holdsProcess = hold;
    if (hold) worker.ref();
    else worker.unref();
  }

  /** Resolves the whenIdle waiters once nothing is in flight. */
  wakeIdleWaiters(): void {
    if (this.#idleWaiters.length === 0 || !this.#isIdle()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
