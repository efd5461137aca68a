// Exit codes and the one-line error report. Every failure the CLI can end with maps to one stable
// code (a ledger error code from the catalogue, or one of the CLI's own below) and to one exit
// code. docs/cli.md has the same table; test/exit-codes.test.ts keeps both in step.

import { errorCatalogue, isLedgerError, type CommandStatus } from '@shardledger/shard-router';

export const exitCodes = {
  ok: 0,
  /** The ledger refused a command (insufficient funds, pending already posted...) or verify
   * found a violation. */
  rejected: 1,
  /** Bad command line or input: unknown option, malformed amount, id or file. */
  usage: 2,
  /** The dir is missing, is not a Shardledger data dir, or has another shard count. */
  notALedger: 3,
  /** Another process has the data dir open. */
  locked: 4,
  /** Reading or writing failed (disk, permissions), or the log failed a consistency check. */
  io: 5,
  /** An account, transfer or pending transfer named on the command line does not exist, or the
   * read-model file a command reads without creating it. */
  notFound: 6,
  /** The currency does not match the accounts'. */
  currencyMismatch: 7,
  /** A transient failure (shard restarting, queue full, timeout): retry with the same ids. */
  unavailable: 8,
  /** A bug: an internal invariant broke. Please report it. */
  internal: 9,
} as const;

export type ExitCodeName = keyof typeof exitCodes;
export type ExitCode = (typeof exitCodes)[ExitCodeName];

/** The table printed by `shardledger --help` and kept in docs/cli.md. */
export const exitCodeTable: readonly { readonly code: ExitCode; readonly meaning: string }[] = [
  {
    code: exitCodes.ok,
    meaning: 'success (an identical resubmission, status "exists", is a success too)',
  },
  {
    code: exitCodes.rejected,
    meaning: 'rejected by the ledger (e.g. INSUFFICIENT_FUNDS), or verify found a violation',
  },
  {
    code: exitCodes.usage,
    meaning: 'usage: unknown option, malformed amount, id, time or input file',
  },
  {
    code: exitCodes.notALedger,
    meaning: 'not a ledger: dir missing (run init), not a data dir, shard count differs',
  },
  { code: exitCodes.locked, meaning: 'locked: another process has the data dir open' },
  { code: exitCodes.io, meaning: 'I/O error or corrupt storage' },
  {
    code: exitCodes.notFound,
    meaning: 'not found: unknown account, transfer or pending transfer, or no read-model file',
  },
  {
    code: exitCodes.currencyMismatch,
    meaning: 'currency mismatch between the command and the accounts',
  },
  {
    code: exitCodes.unavailable,
    meaning: 'temporarily unavailable (shard restarting, queue full, timeout): retry',
  },
  { code: exitCodes.internal, meaning: 'internal error (a bug): please report it' },
];

/** Codes of the CLI itself, beside the ledger's catalogue. */
export const cliErrorCodes = {
  USAGE_ERROR: 'the command line is malformed',
  INVALID_INPUT: 'an input file or value could not be read',
  TRANSFER_NOT_FOUND: 'no transfer has this id',
  READ_MODEL_NOT_FOUND: 'the read-model file does not exist',
  INVARIANT_VIOLATED: 'verify found a broken invariant',
  INTERNAL_ERROR: 'an unexpected error (a bug)',
} as const;

export type CliErrorCode = keyof typeof cliErrorCodes;
type AnyCode = CliErrorCode | keyof typeof errorCatalogue | Uppercase<CommandStatus>;

/** An error the CLI reports as one line: `shardledger: CODE: message (hint: ...)`. */
export class CliError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;

  constructor(options: { code: AnyCode; message: string; hint?: string; exitCode?: ExitCode }) {
    super(options.message);
    this.name = 'CliError';
    this.code = options.code;
    this.exitCode = options.exitCode ?? exitCodeOf(options.code);
    this.hint = options.hint ?? hintOf(options.code);
  }
}

export function usageError(message: string, hint?: string): CliError {
  return new CliError({ code: 'USAGE_ERROR', message, ...(hint === undefined ? {} : { hint }) });
}

const exitCodeByCode: Partial<Record<string, ExitCode>> = {
  USAGE_ERROR: exitCodes.usage,
  INVALID_INPUT: exitCodes.usage,
  INVALID_ARGUMENT: exitCodes.usage,
  INVALID_ID: exitCodes.usage,
  INVALID_CURRENCY: exitCodes.usage,
  CURRENCY_UNKNOWN: exitCodes.usage,
  AMOUNT_TOO_PRECISE: exitCodes.usage,
  INVALID_FLAGS: exitCodes.usage,
  INVALID_METADATA: exitCodes.usage,
  INVALID_AMOUNT: exitCodes.usage,
  INVALID_TIMEOUT: exitCodes.usage,
  ACCOUNTS_MUST_BE_DIFFERENT: exitCodes.usage,
  BATCH_TOO_LARGE: exitCodes.usage,
  DUPLICATE_ID_IN_GROUP: exitCodes.usage,
  NOT_A_LEDGER: exitCodes.notALedger,
  SHARD_COUNT_MISMATCH: exitCodes.notALedger,
  DIR_LOCKED: exitCodes.locked,
  IO_ERROR: exitCodes.io,
  DEPENDENCY_MISSING: exitCodes.io,
  STORAGE_FULL: exitCodes.io,
  STORAGE_CORRUPT: exitCodes.io,
  ACCOUNT_NOT_FOUND: exitCodes.notFound,
  PENDING_NOT_FOUND: exitCodes.notFound,
  TRANSFER_NOT_FOUND: exitCodes.notFound,
  READ_MODEL_NOT_FOUND: exitCodes.notFound,
  CURRENCY_MISMATCH: exitCodes.currencyMismatch,
  SHARD_UNAVAILABLE: exitCodes.unavailable,
  QUEUE_FULL: exitCodes.unavailable,
  TIMEOUT: exitCodes.unavailable,
  REPLICATION_UNAVAILABLE: exitCodes.unavailable,
  LEDGER_CLOSED: exitCodes.unavailable,
  TRANSFER_IN_FLIGHT: exitCodes.unavailable,
  ASSERTION_FAILED: exitCodes.internal,
  INTERNAL_ERROR: exitCodes.internal,
  INVARIANT_VIOLATED: exitCodes.rejected,
  FAILPOINT: exitCodes.internal,
};

/** The exit code of a stable code: rejections not listed above exit 1. */
export function exitCodeOf(code: string): ExitCode {
  return exitCodeByCode[code] ?? exitCodes.rejected;
}

/** The exit code of a result status ('ok', 'exists' or a rejection in snake_case). */
export function exitCodeOfStatus(status: CommandStatus): ExitCode {
  if (status === 'ok' || status === 'exists') return exitCodes.ok;
  return exitCodeOf(status.toUpperCase());
}

/** Throws the first rejected item of a batch result (exit code of its status). A member of an
 * atomic group that failed only because another did ('linked_transfer_failed') is not the cause,
 * so the first other rejection is reported. */
export function throwOnRejection(
  results: readonly { id: string; status: CommandStatus }[],
  what: string,
  describe: (index: number) => string = () => '',
): void {
  const rejected = results.filter((result) => exitCodeOfStatus(result.status) !== exitCodes.ok);
  const first =
    rejected.find((result) => result.status !== 'linked_transfer_failed') ?? rejected[0];
  if (first === undefined) return;
  const code = first.status.toUpperCase() as Uppercase<CommandStatus>;
  const about = describe(results.indexOf(first));
  const name = `${first.id}${about === '' ? '' : ` (${about})`}`;
  const prefix =
    results.length === 1
      ? `${what} ${name} was rejected`
      : `${rejected.length} of ${results.length} ${what}s rejected, first ${name}`;
  const known = errorCatalogue[code as keyof typeof errorCatalogue] as
    { message: string } | undefined;
  throw new CliError({ code, message: `${prefix}: ${known?.message ?? first.status}` });
}

const hints: Partial<Record<string, string>> = {
  USAGE_ERROR: "see 'shardledger <command> --help' for options and examples",
  INVALID_AMOUNT:
    "write amounts in major units with at most the currency's decimals (12.34 USD), or minor units with --minor",
  AMOUNT_TOO_PRECISE:
    "write at most the currency's decimals (USD 2, KWD 3, KRW 0), or minor units with --minor",
  INVALID_CURRENCY: 'a currency is an ISO 4217 code (USD) or an asset with its scale (USDC/6)',
  CURRENCY_UNKNOWN: 'not an ISO 4217 code: declare the scale in the code, e.g. USDC/6 or PTS/0',
  NOT_A_LEDGER:
    "create one with 'shardledger init --dir <dir>', or point --dir / SHARDLEDGER_DIR at an existing one",
  SHARD_COUNT_MISMATCH: 'omit --shards to open the dir with the shard count it was created with',
  DIR_LOCKED:
    'stop the process that has it open (`fuser <dir>/LOCK.mdb-lock` names it), or wait for it to finish',
  IO_ERROR: 'check disk space and permissions of the data dir',
  DEPENDENCY_MISSING: 'install the package it names (npm install better-sqlite3@12.11.1) and retry',
  STORAGE_FULL:
    'free disk space (or raise the file size limit) and retry the same command with the same ids',
  STORAGE_CORRUPT: "restore the data dir from a backup; 'shardledger verify' shows what is wrong",
  ACCOUNT_NOT_FOUND: "create it with 'shardledger accounts create <id> --currency <code>'",
  PENDING_NOT_FOUND: "check the id with 'shardledger history <account>'",
  TRANSFER_NOT_FOUND: "check the id with 'shardledger history <account>'",
  CURRENCY_MISMATCH:
    "omit --currency to use the debit account's, or check 'shardledger accounts show <id>'",
  INSUFFICIENT_FUNDS: "check 'shardledger balance <debit account>'",
  EXCEEDS_DEBITS: "check 'shardledger balance <credit account>'",
  EXISTS_WITH_DIFFERENT_FIELDS: 'use a new id, or resubmit with exactly the same fields',
  CROSS_SHARD_PENDING_UNSUPPORTED:
    'an atomic group may not hold a pending transfer across shards; send it on its own',
  SHARD_UNAVAILABLE: 'retry the same command with the same ids',
  QUEUE_FULL: 'retry the same command with the same ids',
  TIMEOUT: 'retry the same command with the same ids',
  REPLICATION_UNAVAILABLE: 'check the NATS cluster, then retry the same command with the same ids',
  ASSERTION_FAILED: 'this is a bug: please report it with the output of shardledger verify',
  INTERNAL_ERROR: 'this is a bug: please report it',
};

export function hintOf(code: string): string | undefined {
  return hints[code];
}

/** The stable code, exit code and one line for any error that reaches the top level. */
export function describeError(error: unknown): { code: string; exitCode: ExitCode; line: string } {
  let code: string;
  let message: string;
  let hint: string | undefined;
  let exitCode: ExitCode;
  if (error instanceof CliError) {
    ({ code, message, hint, exitCode } = error);
  } else if (isLedgerError(error)) {
    code = error.code;
    message = error.message.startsWith(`${code}: `)
      ? error.message.slice(code.length + 2)
      : error.message;
    hint = hintOf(code);
    exitCode = exitCodeOf(code);
  } else if (isErrno(error)) {
    code = 'IO_ERROR';
    message = error.message;
    hint = hintOf(code);
    exitCode = exitCodes.io;
  } else {
    code = 'INTERNAL_ERROR';
    message = error instanceof Error ? error.message : String(error);
    hint = hintOf(code);
    exitCode = exitCodes.internal;
  }
  const text = `shardledger: ${code}: ${message}${hint === undefined ? '' : ` (hint: ${hint})`}`;
  return { code, exitCode, line: text.replace(/\s*\n\s*/g, ' ') };
}

function isErrno(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}
