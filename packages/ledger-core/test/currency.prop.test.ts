// Goal: decimal text and bigint minor units convert both ways without loss at every scale.
// Method: fast-check (seeds 61 and 62, printed by fast-check on failure) over amounts up to
// 2^128-1 in magnitude, scales 0 to limits.currencyScaleMax, and decimal text in any spelling.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatAmount, limits, parseAmount } from '../src/index.js';

const AMOUNT_MAX = (1n << 128n) - 1n;
const scale = fc.integer({ min: 0, max: limits.currencyScaleMax });
const amount = fc.bigInt({ min: -AMOUNT_MAX, max: AMOUNT_MAX });

/** Decimal text as a person may type it for `scale`: leading zeros, fewer decimals than the
 * scale, or none; and the text formatAmount must give for it, built with string operations. */
const typed = scale.chain((scaleOf) =>
  fc
    .record({
      zeros: fc.integer({ min: 0, max: 3 }),
      whole: fc.bigInt({ min: 0n, max: 10n ** 20n - 1n }),
      fraction: fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: scaleOf }),
      point: fc.boolean(),
    })
    .map(({ zeros, whole, fraction, point }) => {
      const text = `${'0'.repeat(zeros)}${whole}${point || fraction !== '' ? `.${fraction}` : ''}`;
      const canonical = `${whole}${scaleOf === 0 ? '' : `.${fraction.padEnd(scaleOf, '0')}`}`;
      return { scale: scaleOf, text: text.endsWith('.') ? text.slice(0, -1) : text, canonical };
    }),
);

describe('parseAmount and formatAmount', () => {
  it('parse(format(n)) is n for every amount up to 2^128-1 in magnitude and every scale', () => {
    fc.assert(
      fc.property(amount, scale, (value, scaleOf) => {
        expect(parseAmount(formatAmount(value, scaleOf), scaleOf, { signed: true })).toBe(value);
      }),
      { seed: 61, numRuns: 2_000 },
    );
  });

  it('format(parse(text)) is the text with its scale of decimals and no leading zeros', () => {
    fc.assert(
      fc.property(typed, ({ scale: scaleOf, text, canonical }) => {
        expect(formatAmount(parseAmount(text, scaleOf), scaleOf)).toBe(canonical);
      }),
      { seed: 62, numRuns: 2_000 },
    );
  });
});
