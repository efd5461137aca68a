// `hot`: Zipf-skewed debit accounts (a few merchants take most payments).
import type { Scenario } from './scenario.js';
import { standardScenario } from './standard.js';

export const hotExponentDefault = 1.1;

export const hotScenario: Scenario = {
  ...standardScenario,
  name: 'hot',
  description:
    '10,000 accounts, Zipf(1.1)-skewed debit accounts (a few accounts pay most transfers), uniform credit accounts',
  parameters: [
    'the hot ranks are a seeded permutation of the accounts, so hot accounts spread over shards',
  ],
  hotExponent: hotExponentDefault,
};
