// Goal: the CSV reader's own splitting of unquoted lines reads every file exactly as csv-parse
// alone does: the same lines, the same bad lines with the same numbers and reasons, the same
// refusals. Method: fast-check (seed 303, printed by fast-check on failure) over files made of
// good, bad, empty, quoted and half-quoted lines, with LF or CRLF and with or without a BOM, each
// read both ways; then one file of several MiB whose first quote comes mid-file, across chunks.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLedgerError } from '@shardledger/shard-router';
import { tempDir } from '@shardledger/ledger-core/testing';
import { simulatedProfile } from '../src/index.js';
import { readSettlement, type ReadItem } from '../src/internals.js';
import { settlementText } from './settlement-fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
let fileIndex = 0;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('recon-reader-prop'));
});
afterAll(() => cleanup());

type Outcome = { items: ReadItem[] } | { refused: unknown };

async function read(path: string, unquotedFastPath: boolean): Promise<Outcome> {
  const items: ReadItem[] = [];
  try {
    for await (const batch of readSettlement(path, simulatedProfile, { unquotedFastPath }))
      items.push(...batch);
  } catch (error) {
    if (isLedgerError(error, 'INVALID_ARGUMENT')) return { refused: error.detail['reason'] };
    throw error;
  }
  return { items };
}

async function bothWays(text: string): Promise<{ fast: Outcome; parsed: Outcome }> {
  fileIndex += 1;
  const path = join(dir, `file-${fileIndex}.csv`);
  await writeFile(path, text);
  return { fast: await read(path, true), parsed: await read(path, false) };
}

const row = (n: number, cells: Partial<Record<'gross' | 'reference' | 'date', string>> = {}) =>
  [
    `st_${n}`,
    'capture',
    cells.reference ?? `PO-${n}`,
    `psp_${n}`,
    'USD',
    cells.gross ?? '12.34',
    '0.34',
    '12.00',
    cells.date ?? '2026-12-06T10:15:00.000Z',
  ].join(',');

const lineKinds = fc.constantFrom(
  (n: number) => row(n),
  (n: number) => row(n, { gross: '12.3' }),
  (n: number) => row(n, { date: 'yesterday' }),
  (n: number) => `st_${n},capture,PO-${n}`,
  (n: number) => row(n, { reference: `"PO-${n},quoted"` }),
  (n: number) => row(n, { reference: `"PO-${n}\nsplit"` }),
  (n: number) => row(n, { gross: '1."00' }),
  (n: number) => `st_${n},capture,"PO-${n},never closed`,
  () => '',
  () => ' ',
  (n: number) => `${row(n)}, `,
);

describe('the CSV reader, unquoted lines split on commas against csv-parse alone', () => {
  it('reads every file of good, bad, empty and quoted lines the same both ways', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(lineKinds, { maxLength: 12 }),
        fc.boolean(),
        fc.boolean(),
        async (kinds, crlf, bom) => {
          const text = settlementText(
            kinds.map((kind, n) => kind(n)),
            { crlf, bom },
          );
          const { fast, parsed } = await bothWays(text);
          expect(fast).toEqual(parsed);
        },
      ),
      { seed: 303, numRuns: 300 },
    );
  });

  it('reads the same both ways a file of several MiB whose first quote comes mid-file', async () => {
    const rows: string[] = [];
    for (let n = 0; n < 60_000; n += 1) {
      if (n === 31_337) rows.push(row(n, { reference: `"PO-${n},quoted"` }));
      else if (n % 9_999 === 0) rows.push(row(n, { gross: '7' }));
      else rows.push(row(n));
    }
    const text = settlementText(rows, { crlf: true });
    expect(Buffer.byteLength(text)).toBeGreaterThan(3 << 20);
    const { fast, parsed } = await bothWays(text);
    expect('items' in fast && fast.items.length).toBe(60_000);
    expect(fast).toEqual(parsed);
  });

  it('reads a file with no newline at its end, or lone carriage returns, the same both ways', async () => {
    for (const text of [
      settlementText([row(1), row(2)]).slice(0, -1),
      settlementText([row(1), row(2)]).replaceAll('\n', '\r'),
      `${simulatedProfile.header.join(',')}`,
      '\uFEFF',
      '',
    ]) {
      const { fast, parsed } = await bothWays(text);
      expect(fast).toEqual(parsed);
    }
  });
});
