import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * The order files start in. Two forks take files from one queue, so a long file that starts last
 * ends alone while the other fork idles. Vitest orders by the durations it cached on an earlier
 * run; a fresh clone (CI) has none, and vitest would start the largest files first, whatever they
 * run. There, files whose class says they are slow go first: simulations and crash tests, then
 * real LMDB files and workers (`*.int`), property runs (`*.prop`) and the docs checks, which run
 * every command and snippet of the docs against real ledgers; largest first within a class. The
 * unit files, well under a second each, fill the gaps at the end.
 */
class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const anyCached = sorted.some((file) =>
      this.ctx.cache.getFileTestResults(
        `${file.project.name}:${relative(this.ctx.config.root, file.moduleId)}`,
      ),
    );
    if (anyCached) return sorted;
    // Array.prototype.sort is stable: within a class, vitest's own order (largest first) stays.
    return [...sorted].sort((a, b) => classRank(a.moduleId) - classRank(b.moduleId));
  }
}

function classRank(path: string): number {
  if (/\.(sim|crash)\.test\.ts$/.test(path)) return 0;
  if (/(\.int|\.prop|docs)\.test\.ts$/.test(path)) return 1;
  return 2;
}

// Tests run against compiled workers (dist/), so `npm test` builds first (tsc -b).
// Forks, not threads: crash tests spawn and SIGKILL child processes, and LMDB environments
// must not be shared between tests running in one process.
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    sequence: { sequencer: SlowFirstSequencer },
    benchmark: { include: ['packages/*/src/**/*.bench.ts'] },
  },
});
