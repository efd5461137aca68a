// Goal: an id is accepted only when it is well-formed Unicode without control characters, so two
// accepted ids are equal exactly when their stored UTF-8 bytes are. Method: the parsers and the
// router's plain-transfer reader called directly, plus a fast-check property over random UTF-16.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAccount, parseResolution, parseTransfer } from '../src/index.js';
import { isValidId, parseMetadata } from '../src/domain/validate.js';
import { readPlainTransfer, type PlainTransferFields } from '../src/storage/transfer-columns.js';

const base = { id: 't1', debitAccountId: 'a', creditAccountId: 'b', amount: 10n, currency: 'USD' };

/** Strings that are not valid ids although every one is short: lone surrogates and controls. */
const refused = [
  'pay-\uD800', // a lone high surrogate at the end (an emoji cut in half)
  'pay-\uDE00', // a lone low surrogate
  '\uD83D', // only half of 😀
  'a\uDE00\uD83Db', // a pair in the wrong order
  'pay-\u0080', // C1 controls: U+0080 .. U+009F
  'pay-\u0085', // NEL
  'pay-\u009F',
  'pay-\u007F', // DEL
  'pay-\u0000',
  'pay-\u001F',
];

const accepted = [
  't-0000000042',
  'héllo-€-😀',
  '😀',
  'ü'.repeat(64),
  '\u00A0nbsp',
  'a\uE000b',
  '\uFFFD',
];

function fields(): PlainTransferFields {
  return { id: '', debitAccountId: '', creditAccountId: '', currency: '', amount: 0 };
}

describe('ids', () => {
  it('refuses lone surrogates, C0 and C1 control characters and DEL', () => {
    for (const id of refused) expect(isValidId(id), JSON.stringify(id)).toBe(false);
    for (const id of accepted) expect(isValidId(id), JSON.stringify(id)).toBe(true);
  });

  it('counts a non-ASCII id by its UTF-8 bytes against the 128-byte limit', () => {
    expect(isValidId('€'.repeat(42))).toBe(true); // 126 bytes
    expect(isValidId('€'.repeat(43))).toBe(false); // 129 bytes
    expect(isValidId('😀'.repeat(32))).toBe(true); // 128 bytes
    expect(isValidId(`${'😀'.repeat(32)}a`)).toBe(false);
  });

  it('answers invalid_id for such ids in accounts, transfers, posts and voids (the general path)', () => {
    for (const id of refused) {
      expect(parseAccount({ id, currency: 'USD' })).toMatchObject({
        ok: false,
        code: 'INVALID_ID',
      });
      expect(parseTransfer({ ...base, id })).toMatchObject({ ok: false, code: 'INVALID_ID' });
      expect(parseTransfer({ ...base, debitAccountId: id })).toMatchObject({
        ok: false,
        code: 'INVALID_ID',
      });
      expect(parseTransfer({ ...base, creditAccountId: id })).toMatchObject({
        ok: false,
        code: 'INVALID_ID',
      });
      expect(parseResolution({ id, pendingId: 'p' }, true)).toMatchObject({
        ok: false,
        code: 'INVALID_ID',
      });
      expect(parseResolution({ id: 'v', pendingId: id }, false)).toMatchObject({
        ok: false,
        code: 'INVALID_ID',
      });
    }
  });

  it('sends no such id down the plain-transfer hot path', () => {
    for (const id of refused)
      expect(readPlainTransfer({ ...base, id }, fields()), JSON.stringify(id)).toBe(false);
  });

  it('refuses metadata whose key or value holds a lone surrogate (it would replay as U+FFFD)', () => {
    expect(parseMetadata({ note: 'cut \uD83D' })).toBeUndefined();
    expect(parseMetadata({ 'k\uDE00': 'v' })).toBeUndefined();
    expect(parseMetadata({ note: 'whole 😀', line: 'a\nb' })).toEqual({
      line: 'a\nb',
      note: 'whole 😀',
    });
  });

  it('accepts two ids exactly when their UTF-8 bytes differ as the strings do (property, seed printed on failure)', () => {
    const unit = fc.oneof(
      fc.constantFrom(0xd800, 0xdbff, 0xdc00, 0xdfff, 0x85, 0x41, 0xe000, 0xfffd),
      fc.integer({ min: 0, max: 0xffff }),
    );
    const text = fc
      .array(unit, { minLength: 1, maxLength: 6 })
      .map((units) => String.fromCharCode(...units));
    fc.assert(
      fc.property(text, text, (left, right) => {
        if (!isValidId(left) || !isValidId(right)) return;
        expect(Buffer.from(left, 'utf8').equals(Buffer.from(right, 'utf8'))).toBe(left === right);
        // And the bytes decode back to the string: nothing was replaced on the way in.
        expect(Buffer.from(left, 'utf8').toString('utf8')).toBe(left);
      }),
      { seed: 20_261_205, numRuns: 20_000 },
    );
  });
});
