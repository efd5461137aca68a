// Keeps errorCatalogue and docs/reference/errors.md in step (fastify-style) and checks error shapes.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  errorCatalogue,
  isLedgerError,
  LedgerError,
  type ErrorCode,
  type RejectionCode,
} from '../src/index.js';
import { AssertionError } from '../src/assert.js';
import { errorFromWire, errorToWire, statusOf } from '../src/errors.js';

const docPath = fileURLToPath(new URL('../../../docs/reference/errors.md', import.meta.url));
const doc = readFileSync(docPath, 'utf8');
const codes = Object.keys(errorCatalogue) as ErrorCode[];

/** The doc split into `### CODE` sections: code -> body text up to the next heading. */
function sections(): Map<string, string> {
  const found = new Map<string, string>();
  const parts = doc.split(/^### /m).slice(1);
  for (const part of parts) {
    const newline = part.indexOf('\n');
    const code = part.slice(0, newline).trim();
    expect(found.has(code), `${code} has two headings`).toBe(false);
    found.set(code, part.slice(newline).split(/^#{1,3} /m)[0] ?? '');
  }
  return found;
}

describe('docs/reference/errors.md', () => {
  const documented = sections();

  it('has a heading for every code in the catalogue', () => {
    expect(codes.filter((code) => !documented.has(code))).toEqual([]);
  });

  it('documents no code that the catalogue lacks', () => {
    expect([...documented.keys()].filter((code) => !(code in errorCatalogue))).toEqual([]);
  });

  it('states the kind of each code as the catalogue does', () => {
    for (const code of codes) {
      expect(documented.get(code), code).toContain(`Kind: \`${errorCatalogue[code].kind}\``);
    }
  });

  it('states the snake_case status of each rejection, and none for other kinds', () => {
    for (const code of codes) {
      const body = documented.get(code) ?? '';
      if (errorCatalogue[code].kind === 'rejection')
        expect(body, code).toContain(`Status: \`${code.toLowerCase()}\``);
      else expect(body, code).not.toContain('Status:');
    }
  });

  it('says when each code happens in at least one sentence', () => {
    for (const code of codes) {
      const prose = (documented.get(code) ?? '')
        .split('\n')
        .filter((line) => line.trim() !== '' && !line.startsWith('- '));
      expect(prose.join(' ').length, code).toBeGreaterThan(30);
    }
  });
});

describe('the catalogue', () => {
  it('uses stable SCREAMING_SNAKE codes with a kind and a message', () => {
    for (const code of codes) {
      expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
      expect(['rejection', 'operational', 'bug']).toContain(errorCatalogue[code].kind);
      expect(errorCatalogue[code].message.length).toBeGreaterThan(0);
    }
  });

  it('turns a rejection code into its snake_case status', () => {
    expect(statusOf('INSUFFICIENT_FUNDS')).toBe('insufficient_funds');
    const rejections = codes.filter(
      (code) => errorCatalogue[code].kind === 'rejection',
    ) as RejectionCode[];
    for (const code of rejections) expect(statusOf(code)).toMatch(/^[a-z0-9_]+$/);
    expect(rejections.map(statusOf)).not.toContain('ok');
    expect(rejections.map(statusOf)).not.toContain('exists');
  });
});

describe('LedgerError', () => {
  it('carries code, kind, detail and a message built from the catalogue', () => {
    const error = new LedgerError('QUEUE_FULL', { shard: 3 });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      code: 'QUEUE_FULL',
      kind: 'operational',
      detail: { shard: 3 },
      retryable: true,
    });
    expect(error.message).toBe(`QUEUE_FULL: ${errorCatalogue.QUEUE_FULL.message} (shard=3)`);
    expect(new LedgerError('DIR_LOCKED').retryable).toBe(false);
  });

  it('is recognised by shape, with or without a code to match', () => {
    const error = new LedgerError('LEDGER_CLOSED');
    expect(isLedgerError(error)).toBe(true);
    expect(isLedgerError(error, 'LEDGER_CLOSED')).toBe(true);
    expect(isLedgerError(error, 'TIMEOUT')).toBe(false);
    expect(isLedgerError(new AssertionError('x'), 'ASSERTION_FAILED')).toBe(true);
  });

  it('is recognised on a plain object that crossed structuredClone (a worker boundary)', () => {
    const plain = structuredClone({
      code: 'SHARD_UNAVAILABLE',
      kind: 'operational',
      message: 'm',
      detail: { shard: 1 },
    });
    expect(isLedgerError(plain)).toBe(true);
    expect(isLedgerError(plain, 'SHARD_UNAVAILABLE')).toBe(true);
  });

  it('rejects values that only look similar', () => {
    for (const value of [
      null,
      undefined,
      'QUEUE_FULL',
      42,
      new Error('x'),
      { code: 'NOPE', kind: 'bug' },
      { code: 'QUEUE_FULL' },
      { code: 1, kind: 'operational' },
    ]) {
      expect(isLedgerError(value)).toBe(false);
    }
  });

  it('round-trips through errorToWire, structuredClone and errorFromWire', () => {
    for (const code of codes) {
      const original = new LedgerError(code, { shard: 2, retry: false, note: null });
      const rebuilt = errorFromWire(structuredClone(errorToWire(original)));
      expect(rebuilt).toBeInstanceOf(LedgerError);
      expect({
        code: rebuilt.code,
        kind: rebuilt.kind,
        detail: rebuilt.detail,
        message: rebuilt.message,
        retryable: rebuilt.retryable,
      }).toEqual({
        code: original.code,
        kind: original.kind,
        detail: original.detail,
        message: original.message,
        retryable: original.retryable,
      });
    }
  });

  it('maps an assertion to ASSERTION_FAILED and anything else to IO_ERROR on the wire', () => {
    expect(errorToWire(new AssertionError('broken'))).toMatchObject({
      code: 'ASSERTION_FAILED',
      message: 'assertion failed: broken',
    });
    expect(errorToWire(new Error('disk'))).toEqual({
      code: 'IO_ERROR',
      message: 'disk',
      detail: {},
    });
    expect(errorToWire('text')).toEqual({ code: 'IO_ERROR', message: 'text', detail: {} });
  });
});
