import { defineConfig } from 'vitest/config';

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
    benchmark: { include: ['packages/*/src/**/*.bench.ts'] },
  },
});
