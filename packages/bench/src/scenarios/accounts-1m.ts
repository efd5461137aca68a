// `accounts-1m`: the standard workload over 1,000,000 accounts (working set beyond the caches).
import type { Scenario } from './scenario.js';
import { standardScenario } from './standard.js';

export const accounts1mScenario: Scenario = {
  ...standardScenario,
  name: 'accounts-1m',
  description: '1,000,000 accounts, uniform random pairs (account creation is setup, not timed)',
  parameters: ['setup creates 1,000,000 accounts in every runner first (tens of seconds)'],
  accounts: 1_000_000,
};
