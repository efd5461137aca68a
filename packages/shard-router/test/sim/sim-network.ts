// The simulator's shards and the seeded network between them and the saga coordinator. Each shard
// is a real ShardEngine on real LMDB files, in this thread; every call to it is a message that
// the scheduler (sim-scheduler.ts) delivers, loses, duplicates or delays, so that the order of
// everything is decided by one PRNG and a seed replays exactly.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  LedgerError,
  ShardEngine,
  type Command,
  type CommandResult,
} from '@shardledger/ledger-core';
import { assert } from '@shardledger/ledger-core/internals';
import type { SagaShard } from '../../src/saga/saga-steps.js';

/** One call on its way to a shard: applied when the scheduler delivers it, answered when the
 * scheduler delivers its reply. */
export interface SimRequest {
  readonly shard: number;
  /** The process generation that sent it; a simulated process crash drops the older ones. */
  readonly generation: number;
  /** A write (submit) may be duplicated by the network; a read is not worth it. */
  readonly write: boolean;
  readonly apply: (engine: ShardEngine) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

export interface SimReply {
  readonly request: SimRequest;
  readonly value: unknown;
}

/** Storage write faults: consulted once per commit of shard `shard` (ShardEngineOptions.commitFault);
 * an error fails that commit as a failed write transaction (ENOSPC, EIO) would. */
export type StorageFaultHook = (shard: number) => Error | undefined;

/** What the process between the coordinator and its shards looks like to the scheduler. */
export class SimNetwork {
  readonly inboxes: SimRequest[][];
  readonly replies: SimReply[] = [];
  readonly sleepers: {
    readonly generation: number;
    readonly wake: () => void;
    readonly fail: (error: unknown) => void;
  }[] = [];
  readonly engines: (ShardEngine | null)[];
  generation = 0;
  /** The simulated wall clock, in nanoseconds; every engine reads it. */
  clockNs = 1_700_000_000_000_000_000n;
  /** Set by the scheduler once the accounts exist; none before. */
  storageFault: StorageFaultHook = () => undefined;
  readonly #dir: string;
  readonly #snapshotIntervalEvents: number;

  constructor(options: { dir: string; shardCount: number; snapshotIntervalEvents: number }) {
    this.#dir = options.dir;
    this.#snapshotIntervalEvents = options.snapshotIntervalEvents;
    this.inboxes = Array.from({ length: options.shardCount }, () => []);
    this.engines = new Array<ShardEngine | null>(options.shardCount).fill(null);
  }

  get shardCount(): number {
    return this.engines.length;
  }

  /** Opens (or reopens: recovery runs) shard `shard`'s engine from its files. */
  async openShard(shard: number): Promise<void> {
    assert(this.engines[shard] === null, 'a shard is opened once');
    const dir = join(this.#dir, `shard-${shard}`);
    await mkdir(dir, { recursive: true });
    this.engines[shard] = await ShardEngine.open({
      dir,
      durability: 'strict',
      clock: () => this.clockNs,
      snapshotIntervalEvents: this.#snapshotIntervalEvents,
      // Timed snapshots read the wall clock: off, so that when one is taken depends on the seed only.
      snapshotIntervalMs: 0,
      commitFault: () => this.storageFault(shard),
    });
  }

  async closeShard(shard: number): Promise<void> {
    const engine = this.engines[shard];
    this.engines[shard] = null;
    if (engine !== null && engine !== undefined) await engine.close();
  }

  engine(shard: number): ShardEngine {
    const engine = this.engines[shard];
    assert(engine !== null && engine !== undefined, 'the shard is open');
    return engine;
  }

  send(
    shard: number,
    generation: number,
    write: boolean,
    apply: (engine: ShardEngine) => Promise<unknown>,
  ): Promise<unknown> {
    // A call from a process that crashed reaches nothing: its coordinator winds down.
    if (generation !== this.generation)
      return Promise.reject(new Error('simulated process is gone'));
    return new Promise((resolve, reject) => {
      (this.inboxes[shard] as SimRequest[]).push({
        shard,
        generation,
        write,
        apply,
        resolve,
        reject,
      });
    });
  }

  /** The coordinator's retry wait: woken by the scheduler, never by a real timer. */
  sleep(generation: number): Promise<void> {
    if (generation !== this.generation)
      return Promise.reject(new Error('simulated process is gone'));
    return new Promise((wake, fail) => this.sleepers.push({ generation, wake, fail }));
  }

  /** A shard worker died: what was queued for it and every reply not yet read fail with
   * SHARD_UNAVAILABLE, as ShardClient reports a worker exit; the engine reopens from its files. */
  async crashShard(shard: number): Promise<void> {
    const unavailable = new LedgerError('SHARD_UNAVAILABLE', { shard, simulated: 'crash' });
    for (const request of (this.inboxes[shard] as SimRequest[]).splice(0))
      request.reject(unavailable);
    for (let index = this.replies.length - 1; index >= 0; index -= 1) {
      const reply = this.replies[index] as SimReply;
      if (reply.request.shard !== shard) continue;
      this.replies.splice(index, 1);
      reply.request.reject(unavailable);
    }
    await this.closeShard(shard);
    await this.openShard(shard);
  }

  /** The whole process died: everything in flight is dropped, every shard reopens from its files,
   * and a new generation of clients and coordinator takes over. */
  async crashProcess(): Promise<void> {
    this.generation += 1;
    const gone = new Error('simulated process is gone');
    const requests = this.inboxes.flatMap((inbox) => inbox.splice(0));
    const replies = this.replies.splice(0);
    const sleepers = this.sleepers.splice(0);
    for (const request of requests) request.reject(gone);
    for (const reply of replies) reply.request.reject(gone);
    for (const sleeper of sleepers) sleeper.fail(gone);
    for (let shard = 0; shard < this.shardCount; shard += 1) await this.closeShard(shard);
    for (let shard = 0; shard < this.shardCount; shard += 1) await this.openShard(shard);
  }

  get quiet(): boolean {
    return (
      this.replies.length === 0 &&
      this.sleepers.length === 0 &&
      this.inboxes.every((inbox) => inbox.length === 0)
    );
  }

  async closeAll(): Promise<void> {
    for (let shard = 0; shard < this.shardCount; shard += 1) await this.closeShard(shard);
  }
}

/** The coordinator's view of one shard (the SagaShard that ShardClient is in the router): every
 * call becomes a message on the network. Reads wait for the writes they were told to wait for,
 * as ShardClient's do, and then queue behind everything sent before them. */
export class SimShard implements SagaShard {
  readonly #network: SimNetwork;
  readonly #shard: number;
  readonly #generation: number;
  readonly #heldWrites = new Set<Promise<unknown>>();

  constructor(network: SimNetwork, shard: number) {
    this.#network = network;
    this.#shard = shard;
    this.#generation = network.generation;
  }

  submit(commands: readonly Command[]): Promise<CommandResult[]> {
    return this.#network.send(this.#shard, this.#generation, true, (engine) =>
      engine.submit(commands),
    ) as Promise<CommandResult[]>;
  }

  holdReadsUntil(writes: Promise<unknown>): void {
    this.#heldWrites.add(writes);
    const release = (): void => void this.#heldWrites.delete(writes);
    writes.then(release, release);
  }

  async #read<T>(apply: (engine: ShardEngine) => Promise<T>): Promise<T> {
    if (this.#heldWrites.size > 0) await Promise.allSettled([...this.#heldWrites]);
    return (await this.#network.send(this.#shard, this.#generation, false, apply)) as T;
  }

  sagaOutcome(sagaId: string): ReturnType<SagaShard['sagaOutcome']> {
    return this.#read((engine) => engine.sagaOutcome(sagaId));
  }

  reservation(sagaId: string): ReturnType<SagaShard['reservation']> {
    return this.#read((engine) => engine.reservation(sagaId));
  }

  lookupTransfers(ids: readonly string[]): ReturnType<SagaShard['lookupTransfers']> {
    return this.#read((engine) => engine.lookupTransfers(ids));
  }

  openReservations(): ReturnType<SagaShard['openReservations']> {
    return this.#read((engine) => engine.openReservations());
  }
}
