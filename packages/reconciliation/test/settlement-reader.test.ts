// Goal: the streaming readers accept what real files look like (a BOM, CRLF, quoted cells, JSON
// Lines) and turn every bad line into a numbered report while reading on; an empty file and a file
// of another profile are refused whole. Method: files written to a temp dir, read through the real
// parsers and profiles.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLedgerError } from '@shardledger/shard-router';
import { tempDir } from '@shardledger/ledger-core/testing';
import { jsonLinesProfile, simulatedProfile, type Profile } from '../src/index.js';
import { readSettlement, type ReadItem } from '../src/internals.js';
import { settlementText } from './settlement-fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
let fileIndex = 0;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('recon-reader'));
});
afterAll(() => cleanup());

async function readText(text: string, profile: Profile = simulatedProfile): Promise<ReadItem[]> {
  fileIndex += 1;
  const path = join(dir, `file-${fileIndex}`);
  await writeFile(path, text);
  const items: ReadItem[] = [];
  for await (const batch of readSettlement(path, profile)) items.push(...batch);
  return items;
}

async function refusal(text: string, profile: Profile = simulatedProfile): Promise<unknown> {
  try {
    await readText(text, profile);
  } catch (error) {
    return isLedgerError(error, 'INVALID_ARGUMENT') ? error.detail['reason'] : error;
  }
  return 'accepted';
}

const good = [
  'st_1,capture,PO-1,psp_1,USD,12.34,0.37,11.97,2026-12-06T10:15:00.000Z',
  'st_2,refund,PO-1,psp_2,USD,-5.00,0.00,-5.00,2026-12-06T11:00:00.000Z',
  'st_3,capture,"PO-3,quoted",psp_3,KWD,1.500,0.015,1.485,2026-12-06T12:00:00Z',
  'st_4,capture,PO-4,psp_4,JPY,1500,15,1485,2026-12-06T12:00:00+09:00',
];

describe('the CSV reader with the simulated profile', () => {
  it('reads lines into signed minor units and UTC times, with a BOM and CRLF as without', async () => {
    for (const options of [{}, { bom: true, crlf: true }]) {
      const items = await readText(settlementText(good, options));
      expect(items.map((item) => item.kind)).toEqual(['line', 'line', 'line', 'line']);
      const lines = items.flatMap((item) => (item.kind === 'line' ? [item.line] : []));
      expect(lines.map((line) => [line.line, line.gross, line.fee, line.net])).toEqual([
        [2, 1234n, 37n, 1197n],
        [3, -500n, 0n, -500n],
        [4, 1500n, 15n, 1485n],
        [5, 1500n, 15n, 1485n],
      ]);
      expect(lines[2]?.reference).toBe('PO-3,quoted');
      expect(lines[0]?.settledAtMs).toBe(Date.UTC(2026, 11, 6, 10, 15));
      expect(lines[3]?.settledAtMs).toBe(Date.UTC(2026, 11, 6, 3, 0));
    }
  });

  it('reports each bad line with its number and reads on', async () => {
    const rows = [
      good[0]!,
      'st_5,capture,PO-5,psp_5,USD,12.3,0.00,12.30,2026-12-06T10:15:00.000Z', // one decimal
      'st_6,capture,PO-6,psp_6,USD,1.00,0.00,1.00,yesterday',
      'st_7,capture,PO-7,psp_7,USD,1.00',
      'st_8,capture,PO-8,psp_8,USD,2.00,0.10,1.80,2026-12-06T10:15:00.000Z', // net is not gross - fee
      'st_9,teleport,PO-9,psp_9,USD,1.00,0.00,1.00,2026-12-06T10:15:00.000Z',
      'st_10,capture,PO-10,psp_10,XYZ,1.00,0.00,1.00,2026-12-06T10:15:00.000Z',
      'st_11,capture,PO-11,psp_11,USD,1."00,0.00,1.00,2026-12-06T10:15:00.000Z', // a stray quote
      good[1]!,
      'st_12,capture,"PO-12,psp_12,USD,1.00,0.00,1.00,2026-12-06T10:15:00.000Z', // never closed
    ];
    const items = await readText(settlementText(rows, { crlf: true }));
    const bad = items.flatMap((item) => (item.kind === 'bad' ? [item.lineNumber] : []));
    // The quote never closed runs, by CSV's rules, to the end of the file: reported where it ends.
    expect(bad).toEqual([3, 4, 5, 6, 7, 8, 9, 12]);
    expect(items.filter((item) => item.kind === 'line')).toHaveLength(2);
    const reasons = items.flatMap((item) => (item.kind === 'bad' ? [item.reason] : []));
    expect(reasons[0]).toMatch(/exactly 2 decimals/);
    expect(reasons[2]).toMatch(/6 columns where the header has 9/);
  });

  it('refuses an empty file, and files of another profile, naming why', async () => {
    expect(await refusal('')).toBe('EMPTY_FILE');
    expect(await refusal('\uFEFF')).toBe('EMPTY_FILE');
    expect(await refusal('id,amount,currency\n1,2,USD\n')).toBe('PROFILE_MISMATCH');
    expect(await refusal('{"id":"st_1","kind":"capture"}\n')).toBe('PROFILE_MISMATCH');
    expect(await refusal(settlementText(good), jsonLinesProfile)).toBe('PROFILE_MISMATCH');
  });

  it('reads a header-only file as a file of no line', async () => {
    expect(await readText(settlementText([]))).toEqual([]);
  });
});

describe('the JSON Lines reader', () => {
  it('signs amounts by type, reads epoch seconds and derives net, with bad lines numbered', async () => {
    const text = [
      '\uFEFF{"id":"a","kind":"capture","merchant_reference":"PO-1","psp_id":"p","currency":"USD","amount":1234,"fee":34,"settled_at":1796552100}',
      '',
      '{"id":"b","kind":"refund","merchant_reference":"PO-1","currency":"USD","amount":"500","fee":"0","settled_at":"1796552200"}',
      'not json',
      '{"id":"c","kind":"capture","merchant_reference":"PO-2","currency":"USD","amount":12.5,"fee":0,"settled_at":1796552200}',
    ].join('\r\n');
    const items = await readText(text, jsonLinesProfile);
    const lines = items.flatMap((item) => (item.kind === 'line' ? [item.line] : []));
    expect(lines.map((line) => [line.recordId, line.gross, line.net, line.settledAtMs])).toEqual([
      ['a', 1234n, 1200n, 1796552100_000],
      ['b', -500n, -500n, 1796552200_000],
    ]);
    expect(items.flatMap((item) => (item.kind === 'bad' ? [item.lineNumber] : []))).toEqual([4, 5]);
  });

  it('refuses an empty file and a CSV file', async () => {
    expect(await refusal('\n\n', jsonLinesProfile)).toBe('EMPTY_FILE');
    expect(await refusal(settlementText(good), jsonLinesProfile)).toBe('PROFILE_MISMATCH');
  });
});

describe('a profile with local dates', () => {
  it('reads them in the profile timezone and refuses impossible dates', async () => {
    const profile: Profile = {
      ...simulatedProfile,
      name: 'local',
      dateFormat: 'local',
      utcOffsetMinutes: 120,
    };
    const items = await readText(
      settlementText([
        'st_1,capture,PO-1,psp_1,USD,1.00,0.00,1.00,2026-12-06 12:00:00',
        'st_2,capture,PO-2,psp_2,USD,1.00,0.00,1.00,2026-02-30 12:00:00',
      ]),
      profile,
    );
    expect(items[0]?.kind === 'line' && items[0].line.settledAtMs).toBe(Date.UTC(2026, 11, 6, 10));
    expect(items[1]?.kind).toBe('bad');
  });
});
