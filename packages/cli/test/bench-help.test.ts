// Goal: the CLI's bench help cannot drift from the bench package. The CLI keeps its own scenario
// list and one-line descriptions (it loads the bench only when `bench` runs), so this checks that
// every scenario it offers exists in the bench, has a line in the help, and that the bench's
// descriptions of the same scenarios exist (a renamed or dropped scenario fails here).
import { scenarioNamed, scenarioNames as benchScenarioNames } from '@shardledger/bench';
import { describe, expect, it } from 'vitest';
import { scenarioHelp, scenarioNames } from '../src/commands/bench.js';

describe('shardledger bench --help', () => {
  it('offers only scenarios the bench has, each with its own help line', () => {
    for (const name of scenarioNames) {
      expect(benchScenarioNames).toContain(name);
      expect(scenarioNamed(name).description.length).toBeGreaterThan(0);
      expect(scenarioHelp).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    }
    const listed = [...scenarioHelp.matchAll(/^ {2}([a-z0-9-]+) {2,}\S/gm)].map(
      (match) => match[1],
    );
    expect(listed).toEqual([...scenarioNames]);
  });
});
