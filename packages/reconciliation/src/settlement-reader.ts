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

/** Reads a settlement file through `profile`: batches of items (one per line after the header),
 * a batch per chunk of the file, so the caller awaits once per chunk rather than once per line. */
export function readSettlement(
  path: string,
  profile: Profile,
  options: CsvReadOptions = {},
): AsyncGenerator<ReadItem[]> {
  return profile.format === 'csv' ? readCsv(path, profile, options) : readJsonLines(path, profile);
}

/** Bytes read from the file at a time: about 1,400 lines, whose items the caller is done with
 * before the next chunk is read. A chunk's items are all live until the chunk is handed out, and
 * at 1 MiB (11,000 lines) they outlived the young generation and were promoted, to be collected
 * by full collections: the process held about 40 MB more, and ran no faster. */
const chunkSizeBytes = 1 << 17;
/** A line this long without a line feed hands the rest of the file to csv-parse. */
const unquotedLineBytesMax = 1 << 20;
const quoteByte = 0x22;
const lineFeedByte = 0x0a;
const carriageReturnByte = 0x0d;

/** The CSV state of one read: the header once seen, and the items of the current chunk. */
class CsvLines {
  header: readonly string[] | undefined;
  index = new Map<string, number>();
  refusal: LedgerError | undefined;
  readonly items: ReadItem[] = [];
  readonly skipped: Extract<ReadItem, { kind: 'bad' }>[] = [];

  readonly path: string;
  readonly profile: Profile;
  /** How line 1 ends, once read here: what csv-parse would have detected as the line end. */
  lineEnd: '\n' | '\r\n' | undefined;
  /** The cells of the record being mapped, read by `record` (one closure for the whole read). */
  #cells: readonly string[] = [];
  readonly #record: RawRecord = (column) => {
    const at = this.index.get(column);
    return at === undefined ? undefined : this.#cells[at];
  };

  constructor(path: string, profile: Profile) {
    this.path = path;
    this.profile = profile;
  }

  onRecord(cells: string[], lineNumber: number): null {
    // A skip is reported as it is parsed, ahead of the records before it: keep the file's order.
    while (this.skipped.length > 0 && this.skipped[0]!.lineNumber < lineNumber)
      this.items.push(this.skipped.shift()!);
    if (this.refusal !== undefined) return null;
    if (this.header === undefined) {
      this.readHeader(cells);
      return null;
    }
    const header = this.header;
    if (cells.length !== header.length) {
      const reason = `${cells.length} columns where the header has ${header.length}`;
      this.items.push({ kind: 'bad', lineNumber, reason });
      return null;
    }
    this.#cells = cells;
    const mapped = mapRecord(this.#record, this.profile, lineNumber);
    this.items.push(
      mapped.ok
        ? { kind: 'line', line: mapped.line }
        : { kind: 'bad', lineNumber, reason: mapped.reason },
    );
    return null;
  }

  /** Lines that hold no quote, after line `lineNumber`: their cells are the text between commas,
   * as csv-parse reads them, at a fraction of its cost. A carriage return before a line feed is
   * dropped, and so is a byte order mark on line 1; empty lines are skipped. Returns the number of
   * the last line read. */
  onUnquoted(text: string, lineNumber: number): number {
    const rows = text.split('\n');
    let at = lineNumber;
    for (const row of rows) {
      at += 1;
      const carriageReturn = row.endsWith('\r');
      let cellsText = carriageReturn ? row.slice(0, -1) : row;
      if (at === 1) this.lineEnd = carriageReturn ? '\r\n' : '\n';
      if (at === 1 && cellsText.startsWith('\uFEFF')) cellsText = cellsText.slice(1);
      if (cellsText !== '') this.onRecord(cellsText.split(','), at);
    }
    return at;
  }

  readHeader(cells: string[]): void {
    const header = cells.map((cell) => cell.trim());
    if (header.join(',') !== this.profile.header.join(',')) {
      this.refusal = refuse(
        'PROFILE_MISMATCH',
        this.path,
        `the header ${describeHeader(header, this.profile)} is not the '${this.profile.name}' profile's '${this.profile.header.join(',')}'`,
      );
      return;
    }
    this.header = header;
    this.index = new Map(header.map((name, at) => [name, at]));
  }

  /** The items parsed since the last call, or the refusal of the file. */
  take(): ReadItem[] {
    if (this.refusal !== undefined) throw this.refusal;
    return this.items.splice(0);
  }
}

/** csv-parse fed from line `lineOffset + 1` of the file on. */
class CsvParser {
  readonly #parser: ReturnType<typeof parse>;

  constructor(records: CsvLines, lineOffset: number) {
    // bom: drop a UTF-8 byte order mark; record delimiters are detected, so CRLF files read as
    // LF ones; relax_column_count hands rows of the wrong width to us, to report them as bad
    // lines; relax_quotes keeps a stray quote inside a cell as text (the cell then fails its own
    // check); skip_records_with_error turns what is left (a quote never closed, which by CSV's
    // rules runs to the end of the file) into a skipped line instead of a failed stream. Records
    // are taken in on_record, synchronously, and none is pushed downstream: no promise per line.
    this.#parser = parse({
      bom: true,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      // Fed from mid-file, it keeps the line end detected at the file's start, as when it reads
      // the whole file.
      ...(records.lineEnd === undefined ? {} : { record_delimiter: records.lineEnd }),
      on_record: (cells: string[], context) => records.onRecord(cells, lineOffset + context.lines),
      on_skip: (error: CsvError | undefined) => {
        const lines = typeof error?.['lines'] === 'number' ? error['lines'] : undefined;
        const at = lines === undefined ? 0 : lineOffset + lines;
        // csv-parse counts lines from where it was first fed: its message gets the file's count.
        const message = error?.message ?? 'unreadable line';
        const reason =
          lines === undefined ? message : message.replace(`line ${lines}`, `line ${at}`);
        records.skipped.push({ kind: 'bad', lineNumber: at, reason });
        return undefined;
      },
    });
    this.#parser.resume();
  }

  /** Parses `chunk`, or ends the input when there is none. */
  write(chunk?: Buffer): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (error?: Error | null) => (error ? reject(error) : resolve());
      if (chunk === undefined) this.#parser.end(done);
      else this.#parser.write(chunk, done);
    });
  }

  destroy(): void {
    this.#parser.destroy();
  }
}

/** Whether the first line ends in a lone carriage return (old Mac line ends): csv-parse reads
 * such a file, the line-feed splitting of unquoted lines does not. */
function endsLinesInCarriageReturn(buffer: Buffer): boolean {
  const carriageReturnAt = buffer.indexOf(carriageReturnByte);
  const lineFeedAt = buffer.indexOf(lineFeedByte);
  return carriageReturnAt !== -1 && (lineFeedAt === -1 || carriageReturnAt < lineFeedAt - 1);
}

export interface CsvReadOptions {
  /** Read lines without quotes by splitting on commas (default); false: csv-parse reads all. */
  readonly unquotedFastPath?: boolean;
}

/** Reads a CSV file: lines that hold no quote are split on commas here, and from the first line
 * that holds a quote (or a file with lone carriage returns) on, csv-parse reads the rest. Both
 * give the same cells for unquoted lines; csv-parse alone costs about eight times as much. */
async function* readCsv(
  path: string,
  profile: Profile,
  options: CsvReadOptions,
): AsyncGenerator<ReadItem[]> {
  const lines = new CsvLines(path, profile);
  let parser = options.unquotedFastPath === false ? new CsvParser(lines, 0) : undefined;
  let carry: Buffer = Buffer.alloc(0);
  let lineNumber = 0;
  let first = true;
  const input = createReadStream(path, { highWaterMark: chunkSizeBytes });
  try {
    for await (const chunk of input) {
      if (first && endsLinesInCarriageReturn(chunk as Buffer)) parser ??= new CsvParser(lines, 0);
      first = false;
      if (parser !== undefined) {
        await parser.write(chunk as Buffer);
        yield lines.take();
        continue;
      }
      const buffer = carry.length === 0 ? (chunk as Buffer) : Buffer.concat([carry, chunk]);
      const quoteAt = buffer.indexOf(quoteByte);
      const end =
        quoteAt === -1
          ? buffer.lastIndexOf(lineFeedByte)
          : buffer.lastIndexOf(lineFeedByte, quoteAt);
      // A line feed is one byte in UTF-8 and never inside another character: a safe cut.
      if (end !== -1) lineNumber = lines.onUnquoted(buffer.toString('utf8', 0, end), lineNumber);
      carry = buffer.subarray(end + 1);
      if (quoteAt !== -1 || carry.length > unquotedLineBytesMax) {
        parser = new CsvParser(lines, lineNumber);
        await parser.write(carry);
        carry = Buffer.alloc(0);
      }
      yield lines.take();
    }
    if (parser === undefined && carry.length > 0)
      lines.onUnquoted(carry.toString('utf8'), lineNumber);
    await parser?.write();
  } finally {
    input.destroy();
    parser?.destroy();
  }
  const last = lines.take();
  if (lines.header === undefined && lines.skipped.length > 0)
    throw refuse('PROFILE_MISMATCH', path, `the first line of ${path} is not a CSV header`);
  if (lines.header === undefined) throw refuse('EMPTY_FILE', path, `${path} is empty: no header`);
  yield [...last, ...lines.skipped.splice(0)];
}

/** A JSON value as the text a CSV cell would hold: strings, and numbers that are safe integers. */
function cellOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}

async function* readJsonLines(path: string, profile: Profile): AsyncGenerator<ReadItem[]> {
  let batch: ReadItem[] = [];
  for await (const item of jsonLines(path, profile)) {
    batch.push(item);
    if (batch.length >= jsonLinesBatchSize) {
      yield batch;
      batch = [];
    }
  }
  yield batch;
}

/** JSON lines handed out at a time. */
const jsonLinesBatchSize = 1024;

async function* jsonLines(path: string, profile: Profile): AsyncGenerator<ReadItem> {
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
