// Streaming readers of settlement files: CSV through csv-parse, JSON Lines through readline. Both
// read the file as a stream and hand out one line at a time, so memory stays flat whatever the
// file's size. A line that cannot be read (a bad amount or date, the wrong column count, broken
// quoting, invalid JSON) is handed out as a bad line with its line number, and reading goes on. A
// file that is empty, or whose header is another profile's, is refused whole before any line.

import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parse, type CsvError } from 'csv-parse';
import { LedgerError } from '@shardledger/shard-router';
import { mapRecord, type RawRecord } from './line-mapper.js';
import { builtInProfiles, type Profile } from './profiles.js';
import type { SettlementLine } from './types.js';

export type ReadItem =
  | { readonly kind: 'line'; readonly line: SettlementLine }
  | { readonly kind: 'bad'; readonly lineNumber: number; readonly reason: string };

/** Stable reasons in `detail.reason` of the INVALID_ARGUMENT a refused file throws. */
export const fileRefusals = {
  EMPTY_FILE: 'the file holds no header and no line',
  PROFILE_MISMATCH: "the file's header or shape is not the profile's",
} as const;
export type FileRefusal = keyof typeof fileRefusals;

function refuse(reason: FileRefusal, path: string, message: string): LedgerError {
  return new LedgerError('INVALID_ARGUMENT', { reason, path }, `INVALID_ARGUMENT: ${message}`);
}

function describeHeader(cells: readonly string[], profile: Profile): string {
  const other = builtInProfiles.find(
    (candidate) =>
      candidate !== profile &&
      candidate.format === 'csv' &&
      candidate.header.join(',') === cells.join(','),
  );
  const shown = cells.join(',').slice(0, 200);
  return other === undefined ? `'${shown}'` : `'${shown}' (the '${other.name}' profile's)`;
}

/** Reads a settlement file through `profile`, one item per line after the header. */
export function readSettlement(path: string, profile: Profile): AsyncGenerator<ReadItem> {
  return profile.format === 'csv' ? readCsv(path, profile) : readJsonLines(path, profile);
}

async function* readCsv(path: string, profile: Profile): AsyncGenerator<ReadItem> {
  const skipped: Extract<ReadItem, { kind: 'bad' }>[] = [];
  // bom: drop a UTF-8 byte order mark; record delimiters are detected, so CRLF files read as LF
  // ones; relax_column_count hands rows of the wrong width to us, to report them as bad lines;
  // relax_quotes keeps a stray quote inside a cell as text (the cell then fails its own check);
  // skip_records_with_error turns what is left (a quote never closed, which by CSV's rules runs
  // to the end of the file) into a skipped line instead of a failed stream.
  const parser = createReadStream(path).pipe(
    parse({
      bom: true,
      info: true,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      on_skip: (error: CsvError | undefined) => {
        const lineNumber = typeof error?.['lines'] === 'number' ? error['lines'] : 0;
        skipped.push({ kind: 'bad', lineNumber, reason: error?.message ?? 'unreadable line' });
        return undefined;
      },
    }),
  );
  let header: readonly string[] | undefined;
  let index = new Map<string, number>();
  for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    const lineNumber = item.info.lines;
    // A skip is reported as it is parsed, ahead of the records before it: keep the file's order.
    while (skipped.length > 0 && skipped[0]!.lineNumber < lineNumber) yield skipped.shift()!;
    const cells = item.record;
    if (header === undefined) {
      header = cells.map((cell) => cell.trim());
      if (header.join(',') !== profile.header.join(',')) {
        parser.destroy();
        throw refuse(
          'PROFILE_MISMATCH',
          path,
          `the header ${describeHeader(header, profile)} is not the '${profile.name}' profile's '${profile.header.join(',')}'`,
        );
      }
      index = new Map(header.map((name, at) => [name, at]));
      continue;
    }
    if (cells.length !== header.length) {
      yield {
        kind: 'bad',
        lineNumber,
        reason: `${cells.length} columns where the header has ${header.length}`,
      };
      continue;
    }
    const record: RawRecord = (column) => {
      const at = index.get(column);
      return at === undefined ? undefined : cells[at];
    };
    const mapped = mapRecord(record, profile, lineNumber);
    yield mapped.ok
      ? { kind: 'line', line: mapped.line }
      : { kind: 'bad', lineNumber, reason: mapped.reason };
  }
  if (header === undefined && skipped.length > 0)
    throw refuse('PROFILE_MISMATCH', path, `the first line of ${path} is not a CSV header`);
  if (header === undefined) throw refuse('EMPTY_FILE', path, `${path} is empty: no header`);
  yield* skipped.splice(0);
}

/** A JSON value as the text a CSV cell would hold: strings, and numbers that are safe integers. */
function cellOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}

async function* readJsonLines(path: string, profile: Profile): AsyncGenerator<ReadItem> {
  const lines = createInterface({
    input: createReadStream(path, { encoding: 'utf8' }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let lineNumber = 0;
  let seen = false;
  for await (const raw of lines) {
    lineNumber += 1;
    const text = (lineNumber === 1 ? raw.replace(/^\uFEFF/, '') : raw).trim();
    if (text === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
    if (!seen) {
      const keys = isObject ? Object.keys(value as object) : [];
      if (!isObject || !keys.includes(profile.columns.recordId)) {
        lines.close();
        throw refuse(
          'PROFILE_MISMATCH',
          path,
          `line ${lineNumber} is not a JSON object with '${profile.columns.recordId}': not the '${profile.name}' profile's JSON Lines`,
        );
      }
      seen = true;
    }
    if (!isObject) {
      yield { kind: 'bad', lineNumber, reason: 'not a JSON object' };
      continue;
    }
    const object = value as Record<string, unknown>;
    const mapped = mapRecord((column) => cellOf(object[column]), profile, lineNumber);
    yield mapped.ok
      ? { kind: 'line', line: mapped.line }
      : { kind: 'bad', lineNumber, reason: mapped.reason };
  }
  if (!seen) throw refuse('EMPTY_FILE', path, `${path} is empty: no line`);
}
