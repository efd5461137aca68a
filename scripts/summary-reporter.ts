// Prints the failed tests, each with its first error's message and details (CI keeps only the tail
// of the output, so the cause must be next to the name), then one plain closing line
// ("N passed, N failed, N skipped") that CI can read.
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const failures: string[] = [];
    for (const testModule of testModules) {
      for (const testCase of testModule.children.allTests()) {
        const result = testCase.result();
        const state = result.state;
        if (state === 'passed') passed += 1;
        else if (state === 'failed') {
          failed += 1;
          const error = result.errors[0];
          const cause =
            error === undefined
              ? ''
              : `\n  ${oneLine(`${error.name ?? 'Error'}: ${error.message}`)}${error.diff === undefined ? '' : `\n  ${oneLine(error.diff)}`}${detailOf(error)}`;
          failures.push(`${testModule.moduleId} > ${testCase.fullName}${cause}`);
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

/** At most 2,000 characters on one line, escape codes removed. */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  const plain = text.replace(/\u001b\[[0-9;]*m/g, '').replace(/\s*\n\s*/g, ' | ');
  return plain.length > 2_000 ? `${plain.slice(0, 2_000)}...` : plain;
}

/** A LedgerError's code and detail, when the error carries them. */
function detailOf(error: object): string {
  const { code, detail } = error as { code?: unknown; detail?: unknown };
  if (code === undefined && detail === undefined) return '';
  return `\n  code=${String(code)} detail=${oneLine(JSON.stringify(detail, (_key, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value)) ?? '')}`;
}
