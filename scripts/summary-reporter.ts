// Prints the failed tests, then one plain closing line ("N passed, N failed, N skipped") that CI can read.
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const failures: string[] = [];
    for (const testModule of testModules) {
      for (const testCase of testModule.children.allTests()) {
        const state = testCase.result().state;
        if (state === 'passed') passed += 1;
        else if (state === 'failed') {
          failed += 1;
          failures.push(`${testModule.moduleId} > ${testCase.fullName}`);
        } else skipped += 1;
      }
      if (testModule.state() === 'failed' && testModule.children.size === 0) {
        failed += 1;
        failures.push(`${testModule.moduleId} (did not load)`);
      }
    }
    for (const failure of failures) process.stdout.write(`\nFAILED ${failure}`);
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
