// Test helpers shipped with the package (`@shardledger/ledger-core/testing`): an in-memory id
// index with the same contract as the LMDB one, a given/when/then runner for the decider, and the
// aids every package's tests share (seeded PRNG, temp dir, sleep; test-aids.ts).

import { decide } from './domain/decide.js';
import { evolve } from './domain/evolve.js';
import { indexWritesOf } from './domain/records.js';
import { initialState, type LedgerState } from './domain/state.js';
import type {
  Command,
  Decision,
  DecideContext,
  LedgerEvent,
  SagaOutcome,
  TransferRecord,
} from './domain/types.js';

export { seededRandom, sleep, tempDir } from './test-aids.js';

/** The id index kept in memory: for tests and for replaying a log into a scratch state. */
export class MemoryIndex {
  readonly transfers = new Map<string, TransferRecord>();
  readonly sagas = new Map<string, SagaOutcome>();

  apply(event: LedgerEvent): void {
    const writes = indexWritesOf(event);
    for (const record of writes.transfers) this.transfers.set(record.id, record);
    for (const { id, change } of writes.updates) {
      const record = this.transfers.get(id);
      if (record !== undefined) this.transfers.set(id, { ...record, ...change });
    }
    if (writes.saga !== null) this.sagas.set(writes.saga.sagaId, writes.saga.outcome);
  }

  context(timestamp: bigint): DecideContext {
    return { timestamp, transfers: this.transfers, sagas: this.sagas };
  }
}

/** A whole shard in memory: decide + evolve + index, with a clock that ticks 1 ns per event. */
export class MemoryLedger {
  readonly state: LedgerState = initialState();
  readonly index = new MemoryIndex();
  readonly log: LedgerEvent[] = [];
  private clock = 1_000_000_000n;

  constructor(startTimestamp?: bigint) {
    if (startTimestamp !== undefined) this.clock = startTimestamp;
  }

  /** Moves the clock forward (for timeouts). */
  advance(nanoseconds: bigint): void {
    this.clock += nanoseconds;
  }

  execute(command: Command): Decision {
    const timestamp =
      this.clock > this.state.lastTimestamp ? this.clock : this.state.lastTimestamp + 1n;
    const decision = decide(command, this.state, this.index.context(timestamp));
    if (decision.ok) {
      for (const event of decision.events) {
        evolve(this.state, event);
        this.index.apply(event);
        this.log.push(event);
      }
    }
    this.clock = (this.state.lastTimestamp > timestamp ? this.state.lastTimestamp : timestamp) + 1n;
    return decision;
  }
}

export interface Scenario {
  readonly given: readonly Command[];
  readonly when: Command;
}

/** given (commands that must succeed) / when (a command) → the decision, without storage. */
export function givenWhen(scenario: Scenario): { decision: Decision; ledger: MemoryLedger } {
  const ledger = new MemoryLedger();
  for (const command of scenario.given) {
    const decision = ledger.execute(command);
    if (!decision.ok)
      throw new Error(`given command ${command.type} was rejected: ${decision.code}`);
  }
  return { decision: ledger.execute(scenario.when), ledger };
}
