// Goal: the decider tests between them return every rejection code the decider can return.
// Method: collect the codes that the decide-*.test.ts files assert (expectCode calls and the
// per-member codes of groups); those assertions pass, so each code named was returned.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { errorCatalogue } from '../src/index.js';

const testDir = fileURLToPath(new URL('.', import.meta.url));
const self = fileURLToPath(import.meta.url);

/** The decider test files: every decide-*.test.ts but this one. */
function deciderTestFiles(): string[] {
  return readdirSync(testDir)
    .filter((name) => /^decide-.+\.test\.ts$/.test(name))
    .map((name) => testDir + name)
    .filter((path) => path !== self);
}

/** Codes the decider tests assert: the last argument of each expectCode(...) call, and each
 * code of a `codes: [...]` list of member codes. */
function assertedCodes(text: string): Set<string> {
  const seen = new Set<string>();
  for (const match of text.matchAll(/expectCode\((?:[^;]*?),\s*'([A-Z_]+)',?\s*\)/g))
    seen.add(match[1]!);
  for (const match of text.matchAll(/codes: \[([^\]]*)\]/g))
    for (const code of match[1]!.matchAll(/'([A-Z_]+)'/g)) seen.add(code[1]!);
  return seen;
}

describe('coverage of the catalogue', () => {
  it('has produced every rejection code the decider can return', () => {
    const files = deciderTestFiles();
    expect(files.length).toBeGreaterThan(1);
    const seen = new Set(files.flatMap((file) => [...assertedCodes(readFileSync(file, 'utf8'))]));
    const validatorOnly = [
      'INVALID_ID',
      'INVALID_CURRENCY',
      'CURRENCY_UNKNOWN',
      'INVALID_FLAGS',
      'INVALID_METADATA',
      'INVALID_AMOUNT',
      'AMOUNT_TOO_PRECISE',
      'INVALID_TIMEOUT',
    ];
    const deciderCodes = Object.entries(errorCatalogue)
      .filter(([code, entry]) => entry.kind === 'rejection' && !validatorOnly.includes(code))
      .map(([code]) => code);
    expect(deciderCodes.filter((code) => !seen.has(code))).toEqual([]);
  });
});
