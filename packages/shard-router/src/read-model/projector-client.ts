// The caller's side of the projector worker: starts it, ships event batches to it and resolves
// each batch's promise with the watermark it committed. Batches are applied in the order they are
// sent; a worker that dies fails every batch in flight (the ReadModel then stops projecting).
// Like the shard workers, the thread keeps the process alive only while it starts or a request
// to it is unanswered.

import { Worker } from 'node:worker_threads';
import { LedgerError } from '@shardledger/ledger-core';
import { assert, errorFromWire } from '@shardledger/ledger-core/internals';
import type { Watermark } from './projector.js';
import type {
  ProjectorReply,
  ProjectorRequest,
  ProjectorWorkerData,
  RecordBatch,
} from './projector-protocol.js';
import { workerSource } from '../worker-entry.js';

// The compiled worker, whether this module runs from dist/ or from src/ under vitest (as the
// shard workers do: workers always load from dist/).
const workerUrl = import.meta.resolve('@shardledger/shard-router/read-model-worker');

interface Waiter {
  readonly resolve: (reply: ProjectorReply) => void;
  readonly reject: (error: unknown) => void;
}

export class ProjectorClient {
  readonly #worker: Worker;
  /** One waiter per request sent (plus the first, for 'ready'), in order. */
  readonly #waiters: Waiter[] = [];
  readonly #exited: Promise<void>;
  #failure: LedgerError | null = null;
  #closing = false;
  /** Whether the worker holds the process alive (worker.ref()): while a reply is awaited. */
  #holdsProcess = true;
  /** The worker thread's niceness as it reported it (null: could not be set on this system). */
  niceness: number | null = null;

  private constructor(data: ProjectorWorkerData) {
    this.#worker = new Worker(workerSource(workerUrl), {
      eval: true,
      workerData: data,
      name: 'shardledger-projector',
    });
    this.#worker.on('message', (reply: ProjectorReply) => this.#onReply(reply));
    this.#worker.on('error', (error) =>
      this.#fail(
        errorFromWire({
          code: 'IO_ERROR',
          message: String(error),
          detail: { readModel: data.path },
        }),
      ),
    );
    this.#exited = new Promise((resolve) => {
      this.#worker.once('exit', (exitCode) => {
        if (!this.#closing)
          this.#fail(
            new LedgerError('IO_ERROR', { readModel: data.path, projectorExitCode: exitCode }),
          );
        resolve();
      });
    });
  }

  /** Starts the worker on `path` and resolves once it has opened the file. */
  static async open(data: ProjectorWorkerData): Promise<ProjectorClient> {
    const client = new ProjectorClient(data);
    try {
      const ready = await client.#expect();
      assert(ready.kind === 'ready', 'the worker reports ready first');
      client.niceness = ready.niceness;
      return client;
    } catch (error) {
      await client.#worker.terminate();
      throw error;
    }
  }

  /** Applies the batch's events in one transaction; resolves with the new watermark once it is
   * committed. */
  async apply(batch: RecordBatch): Promise<Watermark> {
    const reply = await this.#send({ kind: 'apply', ...batch });
    if (reply.kind === 'failed') throw errorFromWire(reply.error);
    assert(reply.kind === 'applied', 'an apply is answered by applied or failed');
    return reply.watermark;
  }

  /** Closes the file (a clean close checkpoints its WAL) and stops the worker. Idempotent. */
  async close(): Promise<void> {
    if (this.#closing) return this.#exited;
    this.#closing = true;
    if (this.#failure === null) {
      const reply = await this.#send({ kind: 'close' }).catch(() => null);
      assert(reply === null || reply.kind === 'closed', 'a close is answered by closed');
    }
    await this.#worker.terminate();
    await this.#exited;
  }

  #send(request: ProjectorRequest): Promise<ProjectorReply> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    const reply = this.#expect();
    this.#holdProcess(true);
    this.#worker.postMessage(request);
    return reply;
  }

  #expect(): Promise<ProjectorReply> {
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  #onReply(reply: ProjectorReply): void {
    const waiter = this.#waiters.shift();
    assert(waiter !== undefined, 'a reply answers a request');
    if (this.#waiters.length === 0 && !this.#closing) this.#holdProcess(false);
    waiter.resolve(reply);
  }

  #holdProcess(hold: boolean): void {
    if (hold === this.#holdsProcess) return;
    this.#holdsProcess = hold;
    if (hold) this.#worker.ref();
    else this.#worker.unref();
  }

  #fail(error: LedgerError): void {
    this.#failure ??= error;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(this.#failure);
  }
}
