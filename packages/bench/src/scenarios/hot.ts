// `hot`: Zipf-skewed debit accounts (a few accounts take most transfers).
import type { Scenario } from './scenario.js';
import { standardScenario } from './standard.js';

export const hotScenario: Scenario = {
  ...standardScenario,
  name: 'hot',
  description: '10,000 accounts, Zipf(1.1)-skewed debit accounts, uniform credit accounts',
  hotExponent: 1.1,
};
