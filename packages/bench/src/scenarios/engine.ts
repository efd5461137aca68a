// `engine`: one shard's storage engine on its own (the single-shard durable goal): one
// ShardEngine in the bench's own thread, no router and no worker threads, `strict` by default,
// the standard workload (10,000 accounts, uniform random pairs, batches of 8,190, time-ordered
// ids). Each batch is encoded to the thread wire format before the timed window, as the router
// would have done on its side, and handed to submitEncoded as the shard worker does: the figure
// is the engine's, not the caller's. Rounds alternate the engine with lmdb-limit and SQLite (the
// order rotated every round) so that drift on a shared machine falls on every side; ratios are
// the report's figures, absolute numbers vary with the machine's load.
import type { Scenario } from './scenario.js';
import { standardScenario } from './standard.js';

/** Rounds of engine, lmdb-limit and SQLite runs; the figures reported are the medians. */
export const engineRoundsDefault = 3;
/** submitEncoded calls in flight (the shard client keeps up to 4 messages in flight per shard). */
export const engineInFlightDefault = 3;
/** The project's goals for one shard on a 2-core machine, transfers/s. */
export const engineDurableFloorTps = 400_000;
export const engineDurableTargetTps = 1_000_000;
export const engineMemoryTargetTps = 5_000_000;

export const engineScenario: Scenario = {
  ...standardScenario,
  name: 'engine',
  kind: 'engine',
  // The engine's own ceiling: ids that its plain-transfer lane takes without a lookup. The
  // standard scenario measures the random ids applications send; --ids uuidv4 shows them here.
  ids: 'ordered',
  description:
    "one shard's storage engine alone (no threads), durable, against the LMDB append limit and SQLite in alternating rounds",
  parameters: [
    'one ShardEngine on the standard pairs with ordered ids (--ids to change): input pre-encoded before the window, submitEncoded, --in-flight N calls (default 3)',
    '--rounds N (default 3) of engine, lmdb-limit and sqlite, order rotated; reports medians and engine ÷ peer ratios per round',
    "plus the in-memory figures (memory-limit, the engine's transfer kernel); targets: durable 1,000,000/s (floor 400,000), in memory 5,000,000/s",
  ],
};
