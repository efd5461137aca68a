// Applying one command to a shard's memory: decide it against the state and the id index, then
// evolve the state by its events and stage their index writes. Nothing is written here: the
// caller appends the events to the log and commits the staged writes with them.

import { statusOf, type RejectionCode } from '../errors.js';
import { decide } from '../domain/decide.js';
import type { LedgerState } from '../domain/state.js';
import type { Command, LedgerEvent } from '../domain/types.js';
import type { AccountHistory } from './account-history.js';
import type { CommandResult, CommandStatus } from './engine-types.js';
import { stageIndexWrites, type IdIndex } from './id-index.js';

/** decide + evolve one command; appends its events to `events` and stages their index writes.
 * `now` is read once per call: the commands of one call get now, now + 1 ns, ... */
export function applyCommand(
  state: LedgerState,
  index: IdIndex,
  history: AccountHistory,
  command: Command,
  events: LedgerEvent[],
  now: bigint,
): CommandResult {
  const context = index.context;
  context.timestamp = now > state.lastTimestamp ? now : state.lastTimestamp + 1n;
  const decision = decide(command, state, context);
  if (!decision.ok) {
    const result: { status: CommandStatus; statuses?: CommandStatus[] } = {
      status: statusOf(decision.code),
    };
    if (decision.codes !== undefined)
      result.statuses = decision.codes.map((code: RejectionCode) => statusOf(code));
    return result;
  }
  if (decision.events.length === 0) {
    return decision.exists ? { status: 'exists' } : { status: 'ok' };
  }
  for (const event of decision.events) {
    const closing = index.evolve(state, event);
    events.push(event);
    stageIndexWrites(index, history, state, event, state.lastSequence, closing);
  }
  return {
    status: 'ok',
    timestamp: (decision.events[0] as LedgerEvent).timestamp,
    sequence: state.lastSequence,
  };
}
