// Reads `transfer --file`: a JSON array or NDJSON (one object per line) of transfers. Everything is
// checked before the ledger is touched, so a malformed file writes nothing.

import { readFile } from 'node:fs/promises';
import { CliError } from './errors.js';
import { checkAmountSyntax } from './format.js';

/** A transfer as typed by a person: the amount is still text, the currency may be missing. */
export interface FileTransfer {
  readonly id: string;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly amount: string;
  readonly currency: string | undefined;
  readonly pending: boolean;
  readonly timeoutMs: number | undefined;
  readonly metadata: Readonly<Record<string, string>> | null;
}

const knownKeys: ReadonlySet<string> = new Set([
  'id',
  'debitAccountId',
  'creditAccountId',
  'amount',
  'currency',
  'pending',
  'timeoutMs',
  'metadata',
]);

function invalid(where: string, problem: string): CliError {
  return new CliError({
    code: 'INVALID_INPUT',
    message: `${where}: ${problem}`,
    hint: "see 'shardledger transfer --help' for the file format",
  });
}

export async function readTransferFile(
  file: string,
  options: { minor: boolean },
): Promise<FileTransfer[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw invalid(
      file,
      `cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    );
  }
  const records: { where: string; value: unknown }[] = [];
  if (text.trimStart().startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw invalid(file, `not valid JSON (${(error as Error).message})`);
    }
    if (!Array.isArray(parsed)) throw invalid(file, 'the JSON must be an array of transfers');
    parsed.forEach((value, index) => records.push({ where: `${file} item ${index + 1}`, value }));
  } else {
    text.split('\n').forEach((line, index) => {
      if (line.trim() === '') return;
      const where = `${file} line ${index + 1}`;
      try {
        records.push({ where, value: JSON.parse(line) });
      } catch (error) {
        throw invalid(where, `not valid JSON (${(error as Error).message})`);
      }
    });
  }
  return records.map(({ where, value }) => transferOf(where, value, options));
}

function transferOf(where: string, value: unknown, options: { minor: boolean }): FileTransfer {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(where, 'not a JSON object');
  const raw = value as Record<string, unknown>;
  const unknown = Object.keys(raw).find((key) => !knownKeys.has(key));
  if (unknown !== undefined) throw invalid(where, `unknown field '${unknown}'`);
  const text = (key: string, required: boolean): string | undefined => {
    const field = raw[key];
    if (field === undefined && !required) return undefined;
    if (typeof field !== 'string' || field === '')
      throw invalid(where, `'${key}' must be a non-empty string`);
    return field;
  };
  const amount = amountText(where, raw.amount);
  try {
    checkAmountSyntax(amount, options);
  } catch (error) {
    throw new CliError({
      code: 'INVALID_AMOUNT',
      message: `${where}: ${(error as Error).message}`,
    });
  }
  if (raw.pending !== undefined && typeof raw.pending !== 'boolean')
    throw invalid(where, "'pending' must be true or false");
  const timeoutMs = raw.timeoutMs;
  if (
    timeoutMs !== undefined &&
    (typeof timeoutMs !== 'number' || !Number.isSafeInteger(timeoutMs) || timeoutMs < 0)
  ) {
    throw invalid(where, "'timeoutMs' must be a whole number of milliseconds");
  }
  const metadata = raw.metadata;
  if (
    metadata !== undefined &&
    metadata !== null &&
    (typeof metadata !== 'object' || Array.isArray(metadata))
  ) {
    throw invalid(where, "'metadata' must be an object of strings");
  }
  return {
    id: text('id', true) as string,
    debitAccountId: text('debitAccountId', true) as string,
    creditAccountId: text('creditAccountId', true) as string,
    amount,
    currency: text('currency', false),
    pending: raw.pending === true,
    timeoutMs,
    metadata: (metadata ?? null) as Readonly<Record<string, string>> | null,
  };
}

/** Amount text: a JSON string, or a JSON number that is a safe integer (never a float). */
function amountText(where: string, amount: unknown): string {
  if (typeof amount === 'string') return amount;
  if (typeof amount === 'number' && Number.isSafeInteger(amount)) return String(amount);
  if (typeof amount === 'number') {
    throw new CliError({
      code: 'INVALID_AMOUNT',
      message: `${where}: amount ${String(amount)} must be a JSON string when it has decimals ("12.34")`,
    });
  }
  throw invalid(where, "'amount' is missing");
}
