// SQLite, through better-sqlite3, for the read model's file (read-model/read-model-db.ts) only.
// better-sqlite3 is an optional peer dependency: an application that never opens a read model
// need not install it (nor compile its addon). So the driver is loaded on the first open, not
// when this package is imported, and it is seen through the small interfaces below, not through
// better-sqlite3's own types: an application type-checks against this package's declarations
// without @types/better-sqlite3. A missing driver is DEPENDENCY_MISSING, naming what to install.

import { createRequire } from 'node:module';
import { LedgerError } from '@shardledger/ledger-core';

export interface SqliteRunResult {
  readonly changes: number;
  readonly lastInsertRowid: number | bigint;
}

/** A prepared statement: the part of better-sqlite3's Statement this package uses. */
export interface SqliteStatement {
  run(...params: readonly unknown[]): SqliteRunResult;
  get(...params: readonly unknown[]): unknown;
  all(...params: readonly unknown[]): unknown[];
  /** Rows as arrays of column values instead of objects. */
  raw(toggle?: boolean): this;
  /** INTEGER columns as bigint instead of number. */
  safeIntegers(toggle?: boolean): this;
}

/** A connection: the part of better-sqlite3's Database this package uses. */
export interface SqliteDatabase {
  /** The file's path. */
  readonly name: string;
  prepare(source: string): SqliteStatement;
  exec(source: string): this;
  pragma(source: string, options?: { readonly simple?: boolean }): unknown;
  /** Wraps `fn` so that each call runs in one transaction (rolled back if it throws). */
  transaction<Fn extends (...args: never[]) => unknown>(fn: Fn): Fn;
  close(): this;
}

export interface SqliteOpenOptions {
  readonly readonly?: boolean;
  readonly fileMustExist?: boolean;
  /** How long a statement waits for another connection's lock before SQLITE_BUSY. */
  readonly timeout?: number;
}

type SqliteConstructor = new (path: string, options: SqliteOpenOptions) => SqliteDatabase;

const driverName = 'better-sqlite3';
/** The range this package is tested with (its peer dependency). */
export const sqliteDriverVersion = '12.11.1';
let driver: SqliteConstructor | undefined;

/** better-sqlite3's constructor, loaded once. Throws DEPENDENCY_MISSING naming the package when it
 * is not installed (or its native addon was not built), instead of a bare module error. */
function loadDriver(): SqliteConstructor {
  if (driver !== undefined) return driver;
  try {
    // better-sqlite3 is CommonJS: require() loads it synchronously, so opens stay synchronous.
    driver = createRequire(import.meta.url)(driverName) as SqliteConstructor;
  } catch (error) {
    throw unavailable(error);
  }
  return driver;
}

function unavailable(error: unknown): LedgerError {
  const problem = String((error as Error).message).split('\n')[0] ?? '';
  return new LedgerError(
    'DEPENDENCY_MISSING',
    { package: driverName, version: sqliteDriverVersion, problem },
    `DEPENDENCY_MISSING: the read model stores its file with SQLite through ${driverName}, an ` +
      `optional peer dependency that could not be loaded: install it ` +
      `(npm install ${driverName}@${sqliteDriverVersion}) (${problem})`,
  );
}

/** Opens a SQLite file. A missing driver is DEPENDENCY_MISSING; SQLite's own errors are thrown as they are
 * (their `code` says what happened: SQLITE_BUSY, SQLITE_CANTOPEN...). */
export function openSqlite(path: string, options: SqliteOpenOptions): SqliteDatabase {
  const Database = loadDriver();
  try {
    return new Database(path, options);
  } catch (error) {
    // better-sqlite3 loads its native addon on the first open.
    if (/bindings file|better_sqlite3\.node/.test(String((error as Error).message)))
      throw unavailable(error);
    throw error;
  }
}
