// `recovery`: time to reopen after a kill. A child process writes N transfers (acknowledged,
// strict durability by default) and keeps writing; it is killed with SIGKILL mid-write; then
// Ledger.open on its directory is timed (log recovery and saga recovery), then verify().
import type { Scenario } from './scenario.js';
import { standardScenario } from './standard.js';

export const recoveryTransfersDefault = 100_000;

export const recoveryScenario: Scenario = {
  ...standardScenario,
  name: 'recovery',
  kind: 'recovery',
  description:
    'write N transfers in a child process, SIGKILL it mid-write, time Ledger.open (recovery) and verify()',
  parameters: [
    '--events N: acknowledged transfers in the log before the kill (default 100,000)',
    'fails unless verify() is clean and every acknowledged amount survived; no peers',
  ],
};
