// `changes`: the change feed (Ledger.changes) read by a consumer in the same process, and what a
// stalled consumer costs. The standard workload is written for --duration seconds while a
// following feed that took one event stalls; then the feed hands out every event, timed.
import type { Scenario } from './scenario.js';
import { standardScenario } from './standard.js';

/** The project's targets for the feed: a consumer in the process reads at least 1,000,000 events
 * per second (a projection or a publisher must outrun the writers), and a consumer stalled during
 * a write run costs the process less than 50 MiB. */
export const changesEventsPerSecondTarget = 1_000_000;
export const changesStalledHeapMiBTarget = 50;

export const changesScenario: Scenario = {
  ...standardScenario,
  name: 'changes',
  kind: 'changes',
  description:
    'standard written for --duration with a following change feed stalled, then the feed read to the end: events/s',
  parameters: [
    '--duration S of writes (default 10) with a feed that took one event and stalls: heap growth and events it holds',
    'then the feed hands out every event to an in-process consumer: events/s (tps column), no peers',
  ],
};
