// The seeded scheduler: one PRNG decides, step by step, which message a shard applies next, which
// reply comes back, when a retry wakes, when a client starts its next call, and which fault
// strikes. Each step awaits its engine call to the end before the next is chosen, and every
// callback of the coordinator runs to its next wait before the scheduler looks again, so one seed
// is one schedule. Clients send every call again with the same ids until each transfer has a
// definite answer, as an application must after SHARD_UNAVAILABLE.
import { LedgerError, isLedgerError, type CommandStatus } from '@shardledger/ledger-core';
import { SagaCoordinator } from '../../src/saga/saga-coordinator.js';
import { sendOp, type SimRouter } from './sim-client.js';
import { SimNetwork, SimShard, type SimReply, type SimRequest } from './sim-network.js';
import type { SimOp, SimWorkload } from './sim-workload.js';
import { noFaults, zeroFaults, type FaultCounts, type FaultProfile } from './sim-faults.js';

/** One call of the stream and what its client learnt about each of its transfers. */
export interface OpState {
  readonly op: SimOp;
  readonly accounts: readonly string[];
  phase: 'fresh' | 'running' | 'waiting' | 'abandoned' | 'done';
  attempts: number;
  /** The first definite answer per transfer (anything but transfer_in_flight). */
  readonly answers: (CommandStatus | undefined)[];
  /** Answered ok or exists by some attempt: the ledger must hold it. */
  readonly acknowledged: boolean[];
}

/** Scheduler steps with faults on before a seed is made quiet (faults off, one restart): after
 * that the run must finish, or a liveness bug is reported. */
const faultyStepsMax = 4000;
const quietStepsMax = 8000;

export class SimScheduler {
  readonly network: SimNetwork;
  readonly ops: OpState[];
  readonly faults: FaultCounts = zeroFaults();
  readonly problems: string[] = [];
  /** Every decision, in order: two runs of one seed must give the same trace. */
  readonly trace: string[] = [];
  steps = 0;
  readonly #random: () => number;
  readonly #workload: SimWorkload;
  #profile: FaultProfile;
  #router!: SimRouter;
  #recovering: Promise<unknown> | null = null;
  /** Recovery failed: the next step opens the ledger again. */
  #reopen = false;

  constructor(options: {
    network: SimNetwork;
    workload: SimWorkload;
    random: () => number;
    faults: FaultProfile;
  }) {
    this.network = options.network;
    this.#workload = options.workload;
    this.#random = options.random;
    this.#profile = options.faults;
    this.ops = options.workload.ops.map((op) => ({
      op,
      accounts: [
        ...new Set(
          op.transfers.flatMap((transfer) => [transfer.debitAccountId, transfer.creditAccountId]),
        ),
      ],
      phase: 'fresh',
      attempts: 0,
      answers: new Array<CommandStatus | undefined>(op.transfers.length).fill(undefined),
      acknowledged: new Array<boolean>(op.transfers.length).fill(false),
    }));
    this.#newRouter();
  }

  get coordinator(): SagaCoordinator {
    return this.#router.coordinator;
  }

  #newRouter(): void {
    const network = this.network;
    const generation = network.generation;
    const shards = Array.from(
      { length: network.shardCount },
      (_, shard) => new SimShard(network, shard),
    );
    const coordinator = new SagaCoordinator({
      clients: shards,
      shardOf: (accountId) => this.#workload.shardOf(accountId),
      // Never reached: a lost message fails with SHARD_UNAVAILABLE instead, and a real timer
      // would make the schedule depend on the machine's speed.
      stepTimeoutMs: 2 ** 31 - 1,
      sleep: () => network.sleep(generation),
    });
    this.#router = {
      coordinator,
      shards,
      shardOf: (accountId) => this.#workload.shardOf(accountId),
    };
  }

  #pick(count: number): number {
    return Math.floor(this.#random() * count);
  }

  /** Runs the stream to the end with faults, then settles with faults off. */
  async run(): Promise<void> {
    this.network.storageFault = (shard) => {
      if (this.#random() >= this.#profile.storage) return undefined;
      this.faults.storage += 1;
      this.trace.push(`fail commit on ${shard}`);
      return new Error('simulated write failure (ENOSPC)');
    };
    await this.#loop(() => this.ops.every((op) => op.phase === 'done'));
    this.#profile = noFaults;
    const settled = this.#router.coordinator.settle();
    let done = false;
    void settled.finally(() => (done = true));
    await this.#loop(() => done);
  }

  /** A clean restart with faults off (as Ledger.close then Ledger.open): every engine recovers
   * from its files and the coordinator finishes every saga left open. */
  async restart(): Promise<void> {
    this.#profile = noFaults;
    await this.#crashProcess();
    await this.#loop(() => this.#recovering === null);
  }

  async #loop(finished: () => boolean): Promise<void> {
    for (;;) {
      await drainCallbacks();
      if (finished() && this.network.quiet && this.#recovering === null && !this.#reopen) return;
      this.steps += 1;
      if (this.steps === faultyStepsMax && this.#profile !== noFaults) {
        this.faults.quietRestart += 1;
        this.#profile = noFaults;
        await this.#crashProcess();
        continue;
      }
      if (this.#reopen) {
        this.#reopen = false;
        await this.#crashProcess();
        continue;
      }
      if (this.steps > quietStepsMax)
        throw new Error(`no progress after ${quietStepsMax} steps (liveness)`);
      this.network.clockNs += BigInt(this.#pick(2_000_000));
      if (await this.#maybeFault()) continue;
      const progressed = await this.#act();
      if (!progressed)
        throw new Error('stuck: nothing to deliver, wake or start, and the run is not finished');
    }
  }

  async #maybeFault(): Promise<boolean> {
    const profile = this.#profile;
    const roll = this.#random();
    if (roll < profile.processCrash) {
      this.faults.processCrash += 1;
      await this.#crashProcess();
      return true;
    }
    if (roll < profile.processCrash + profile.shardCrash) {
      const shard = this.#pick(this.network.shardCount);
      this.faults.shardCrash += 1;
      this.trace.push(`crash shard ${shard}`);
      await this.network.crashShard(shard);
      return true;
    }
    if (roll < profile.processCrash + profile.shardCrash + profile.clockJump) {
      const forward = this.#random() < 0.6;
      const jumpNs = BigInt(1 + this.#pick(600_000)) * 1_000_000n;
      this.network.clockNs += forward ? jumpNs : -jumpNs;
      this.faults[forward ? 'clockJumpForward' : 'clockJumpBackward'] += 1;
      this.trace.push(`clock ${forward ? '+' : '-'}${jumpNs}`);
      return true;
    }
    return false;
  }

  async #crashProcess(): Promise<void> {
    this.trace.push('crash process');
    for (const op of this.ops)
      if (op.phase === 'running' || op.phase === 'waiting') op.phase = 'abandoned';
    await this.network.crashProcess();
    this.#newRouter();
    const generation = this.network.generation;
    const recovering = this.#router.coordinator.recoverAll().then(
      () => {
        if (this.network.generation === generation) this.#recovering = null;
      },
      (error: unknown) => {
        if (this.network.generation !== generation) return;
        // Ledger.open failed (a shard went down under it): the operator opens again.
        if (!isInDoubt(error)) this.problems.push(`recovery failed: ${String(error)}`);
        this.faults.recoveryFailed += 1;
        this.#reopen = true;
      },
    );
    this.#recovering = recovering;
  }

  /** The actions open now, by weight; performs one. False when there is none. */
  async #act(): Promise<boolean> {
    const network = this.network;
    const choices: { weight: number; act: () => Promise<void> | void }[] = [];
    network.inboxes.forEach((inbox, shard) => {
      if (inbox.length > 0 && network.engines[shard] !== null)
        choices.push({ weight: 4, act: () => this.#deliver(shard) });
    });
    if (network.replies.length > 0)
      choices.push({ weight: 4 + network.replies.length, act: () => this.#reply() });
    if (network.sleepers.length > 0) choices.push({ weight: 2, act: () => this.#wake() });
    const startable = this.#recovering === null ? this.#startable() : undefined;
    if (startable !== undefined) choices.push({ weight: 2, act: () => this.#start(startable) });
    if (choices.length === 0) return false;
    let roll = this.#random() * choices.reduce((sum, choice) => sum + choice.weight, 0);
    for (const choice of choices) {
      roll -= choice.weight;
      if (roll < 0) {
        await choice.act();
        return true;
      }
    }
    await (choices[choices.length - 1] as (typeof choices)[number]).act();
    return true;
  }

  async #deliver(shard: number): Promise<void> {
    const request = (this.network.inboxes[shard] as SimRequest[]).shift() as SimRequest;
    const lost = new LedgerError('SHARD_UNAVAILABLE', { shard, simulated: 'lost' });
    if (this.#random() < this.#profile.lostRequest) {
      this.faults.lostRequest += 1;
      this.trace.push(`lose request to ${shard}`);
      request.reject(lost);
      return;
    }
    this.trace.push(`apply on ${shard}`);
    const engine = this.network.engine(shard);
    const outcome = await settle(request.apply(engine));
    if (!outcome.ok && isStorageError(outcome.error)) {
      // The shard stopped at its failed commit: the caller learns it, and the shard is opened
      // again (recovery from its log), as an operator or a worker restart would.
      request.reject(outcome.error);
      await this.network.crashShard(shard);
      return;
    }
    if (request.write && this.#random() < this.#profile.duplicate) {
      this.faults.duplicate += 1;
      this.trace.push(`duplicate on ${shard}`);
      const again = await settle(request.apply(engine));
      if (!again.ok && isStorageError(again.error)) {
        this.network.replies.push({ request, value: outcome });
        await this.network.crashShard(shard);
        return;
      }
      if (!again.ok) this.problems.push(`a duplicated message failed: ${String(again.error)}`);
    }
    if (this.#random() < this.#profile.lostReply) {
      this.faults.lostReply += 1;
      this.trace.push(`lose reply from ${shard}`);
      request.reject(lost);
      return;
    }
    this.network.replies.push({ request, value: outcome });
  }

  #reply(): void {
    const replies = this.network.replies;
    const index = this.#pick(replies.length);
    if (index > 0) this.faults.reorderedReply += 1;
    const { request, value } = replies.splice(index, 1)[0] as SimReply;
    this.trace.push(`reply from ${request.shard}`);
    const outcome = value as Settled;
    if (outcome.ok) request.resolve(outcome.value);
    else request.reject(outcome.error);
  }

  #wake(): void {
    const [sleeper] = this.network.sleepers.splice(this.#pick(this.network.sleepers.length), 1);
    this.trace.push('wake');
    sleeper?.wake();
  }

  /** The next call a client may send: an abandoned one again, or the first fresh one in stream
   * order whose accounts no call in flight touches (one call in flight per account). */
  #startable(): OpState | undefined {
    const abandoned = this.ops.find((op) => op.phase === 'abandoned');
    if (abandoned !== undefined) return abandoned;
    const fresh = this.ops.find((op) => op.phase === 'fresh');
    if (fresh === undefined) return undefined;
    const active = this.ops.filter((op) => op.phase !== 'fresh' && op.phase !== 'done');
    if (active.length >= this.#workload.concurrency) return undefined;
    const busy = new Set(active.flatMap((op) => op.accounts));
    return fresh.accounts.some((account) => busy.has(account)) ? undefined : fresh;
  }

  #start(state: OpState): void {
    const generation = this.network.generation;
    state.phase = 'running';
    state.attempts += 1;
    this.trace.push(`start op ${this.ops.indexOf(state)} attempt ${state.attempts}`);
    sendOp(this.#router, state.op).then(
      (statuses) => {
        if (this.network.generation !== generation) return;
        // A group refused because one member's earlier saga is still in flight says nothing
        // definite about the others (linked_transfer_failed): the whole group goes again.
        const groupInFlight = state.op.kind === 'group' && statuses.includes('transfer_in_flight');
        if (!groupInFlight)
          statuses.forEach((status, index) => {
            if (status === 'ok' || status === 'exists') state.acknowledged[index] = true;
            if (status !== 'transfer_in_flight' && state.answers[index] === undefined)
              state.answers[index] = status;
          });
        if (state.answers.every((answer) => answer !== undefined)) state.phase = 'done';
        else this.#retryLater(state, generation);
      },
      (error: unknown) => {
        if (this.network.generation !== generation) return;
        if (!isInDoubt(error)) this.problems.push(`a call failed with ${String(error)}`);
        this.#retryLater(state, generation);
      },
    );
  }

  #retryLater(state: OpState, generation: number): void {
    state.phase = 'waiting';
    this.network.sleep(generation).then(
      () => {
        if (this.network.generation === generation) this.#start(state);
      },
      () => undefined,
    );
  }
}

/** A failed write: IO_ERROR, or STORAGE_FULL where the engine tells a full disk apart. */
function isStorageError(error: unknown): boolean {
  return (
    isLedgerError(error) && (error.code === 'IO_ERROR' || String(error.code) === 'STORAGE_FULL')
  );
}

/** The errors after which a call may be sent again with the same ids. */
function isInDoubt(error: unknown): boolean {
  return isLedgerError(error, 'SHARD_UNAVAILABLE') || isStorageError(error);
}

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

function settle(promise: Promise<unknown>): Promise<Settled> {
  return promise.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
}

/** Lets every callback that the last step made ready run to its next wait. */
function drainCallbacks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
