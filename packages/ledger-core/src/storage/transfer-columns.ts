// Transfers laid out by column: the one layout shared by the event log's records
// (event-record.ts) and the thread wire format (batch-codec.ts). Packing thousands of small
// objects with msgpackr costs ~1.4 us each here; joined id strings (column-text.ts) and a
// Float64Array of amounts cost ~0.1 us per transfer.
// Ids can't contain '\n' (control characters are invalid ids), so it is a safe separator.

import { SAFE_BIG } from '../limits.js';
import type { Metadata, TransferSpec } from '../domain/types.js';
import { isValidCurrency, isValidId, type TransferInput } from '../domain/validate.js';
import {
  ColumnCursor,
  joinColumn,
  sameValue,
  splitColumn,
  type ColumnText,
} from './column-text.js';

export interface TransferColumns {
  readonly ids: ColumnText;
  readonly debits: ColumnText;
  readonly credits: ColumnText;
  readonly currencies: ColumnText;
  /** Exact below 2^53; -1 where the amount is in `bigAmounts`. */
  readonly amounts: Float64Array;
  readonly bigAmounts: Record<number, bigint> | null;
  /** Column -> [pending (0|1), timeoutMs, metadata], only where any is set. */
  readonly extras: Record<number, [number, number, Metadata | null]> | null;
}

/** The fields of a plain transfer input, as readPlainTransfer leaves them. */
export interface PlainTransferFields {
  id: string;
  /** Read, not validated: the caller checks both account ids (the router against its memo). */
  debitAccountId: unknown;
  creditAccountId: unknown;
  currency: string;
  /** A safe integer >= 1. */
  amount: number;
}

/** The router's hot path into the columns (here, not in the pure domain/validate.ts, because the
 * amount leaves as the columns' number). Reads a plain transfer (amount a bigint or number from
 * 1 to 2^53-1, not pending, no timeout, no metadata) into `out`, reading each field of the input
 * once, and returns true when its id, amount and currency are valid; the caller then checks the
 * two account ids (isValidId). Whenever it returns true and both account ids are valid,
 * transferSpecOrRejection accepts the input with these same fields (a property test holds them
 * together). It returns false for anything else, which the caller sends down the general path
 * (transferSpecOrRejection), where it gets its exact rejection. */
export function readPlainTransfer(input: unknown, out: PlainTransferFields): boolean {
  if (typeof input !== 'object' || input === null) return false;
  const raw = input as Partial<Record<keyof TransferInput, unknown>>;
  const pending = raw.pending;
  if (pending !== undefined && pending !== false) return false;
  const timeoutMs = raw.timeoutMs;
  if (timeoutMs !== undefined && timeoutMs !== 0) return false;
  const metadata = raw.metadata;
  if (metadata !== undefined && metadata !== null) return false;
  const amount = raw.amount;
  let value: number;
  if (typeof amount === 'bigint') {
    if (amount <= 0n || amount > SAFE_BIG) return false;
    value = Number(amount);
  } else if (typeof amount === 'number') {
    if (!Number.isSafeInteger(amount) || amount <= 0) return false;
    value = amount;
  } else return false;
  const id = raw.id;
  if (!isValidId(id)) return false;
  const currency = raw.currency;
  if (!isValidCurrency(currency)) return false;
  out.id = id;
  out.debitAccountId = raw.debitAccountId;
  out.creditAccountId = raw.creditAccountId;
  out.currency = currency;
  out.amount = value;
  return true;
}

/** The spec transferSpecOrRejection gives for the plain transfer readPlainTransfer read into
 * `fields`, once its account ids are known valid. */
export function plainTransferSpec(fields: PlainTransferFields): TransferSpec {
  return {
    id: fields.id,
    debitAccountId: fields.debitAccountId as string,
    creditAccountId: fields.creditAccountId as string,
    amount: BigInt(fields.amount),
    currency: fields.currency,
    pending: false,
    timeoutMs: 0,
    metadata: null,
  };
}

/** Collects specs column by column; `add` returns the column index. */
export class TransferColumnsBuilder {
  private readonly ids: string[] = [];
  private readonly debits: string[] = [];
  private readonly credits: string[] = [];
  private readonly currencies: string[] = [];
  private amounts: Float64Array;
  private bigAmounts: Record<number, bigint> | null = null;
  private extras: Record<number, [number, number, Metadata | null]> | null = null;

  constructor(capacity: number) {
    this.amounts = new Float64Array(Math.max(capacity, 1));
  }

  private grow(): void {
    const grown = new Float64Array(this.amounts.length * 2);
    grown.set(this.amounts);
    this.amounts = grown;
  }

  get count(): number {
    return this.ids.length;
  }

  add(spec: TransferSpec): number {
    const small = spec.amount <= SAFE_BIG;
    const column = this.addPlain(
      spec.id,
      spec.debitAccountId,
      spec.creditAccountId,
      spec.currency,
      small ? Number(spec.amount) : -1,
    );
    if (!small) (this.bigAmounts ??= {})[column] = spec.amount;
    if (spec.pending || spec.metadata !== null)
      (this.extras ??= {})[column] = [spec.pending ? 1 : 0, spec.timeoutMs, spec.metadata];
    return column;
  }

  /** `add` for a plain transfer (amount below 2^53, not pending, no metadata), from its fields. */
  addPlain(
    id: string,
    debitAccountId: string,
    creditAccountId: string,
    currency: string,
    amount: number,
  ): number {
    const column = this.ids.length;
    if (column === this.amounts.length) this.grow();
    this.ids.push(id);
    this.debits.push(debitAccountId);
    this.credits.push(creditAccountId);
    this.currencies.push(currency);
    this.amounts[column] = amount;
    return column;
  }

  /** Appends every column of `other`, in order. */
  append(other: TransferColumnsBuilder): void {
    const start = this.ids.length;
    const count = other.ids.length;
    while (this.amounts.length < start + count) this.grow();
    for (let column = 0; column < count; column += 1) {
      this.ids.push(other.ids[column] as string);
      this.debits.push(other.debits[column] as string);
      this.credits.push(other.credits[column] as string);
      this.currencies.push(other.currencies[column] as string);
    }
    this.amounts.set(other.amounts.subarray(0, count), start);
    if (other.bigAmounts !== null)
      for (const [column, amount] of Object.entries(other.bigAmounts))
        (this.bigAmounts ??= {})[start + Number(column)] = amount;
    if (other.extras !== null)
      for (const [column, extra] of Object.entries(other.extras))
        (this.extras ??= {})[start + Number(column)] = extra;
  }

  build(): TransferColumns {
    return {
      ids: joinColumn(this.ids),
      debits: joinColumn(this.debits),
      credits: joinColumn(this.credits),
      currencies: joinColumn(this.currencies),
      amounts: this.amounts.subarray(0, this.ids.length),
      bigAmounts: this.bigAmounts,
      extras: this.extras,
    };
  }
}

/** Reads specs back, column by column. The split columns are public for the engine's plain-
 * transfer lane (shard-engine.ts), which reads fields without building a spec per transfer.
 * Each is split on first use (a decoded log record whose transfers are never read, or a lane
 * that stops early, splits nothing it does not need). */
export class TransferColumnsReader {
  readonly columns: TransferColumns;
  readonly count: number;
  private splitIds: string[] | null = null;
  private splitDebits: string[] | null = null;
  private splitCredits: string[] | null = null;
  private splitCurrencies: string[] | null = null;
  private sameCurrencyOf: string | null | undefined = undefined;
  /** specInOrder's cursors over the columns, and the column they read next. */
  private cursors: { ids: ColumnCursor; debits: ColumnCursor; credits: ColumnCursor } | null = null;
  private cursorColumn = 0;

  constructor(columns: TransferColumns) {
    this.columns = columns;
    this.count = columns.amounts.length;
  }

  get ids(): string[] {
    return (this.splitIds ??= splitColumn(this.columns.ids, this.count));
  }
  get debits(): string[] {
    return (this.splitDebits ??= splitColumn(this.columns.debits, this.count));
  }
  get credits(): string[] {
    return (this.splitCredits ??= splitColumn(this.columns.credits, this.count));
  }
  get currencies(): string[] {
    return (this.splitCurrencies ??= splitColumn(this.columns.currencies, this.count));
  }

  /** The currency of every transfer when all have the same one (the usual batch), else null;
   * found without splitting the column: the lane then hands one string, whose hash V8 caches,
   * to every currency check and totals lookup. */
  get sameCurrency(): string | null {
    if (this.sameCurrencyOf === undefined)
      this.sameCurrencyOf = sameValue(this.columns.currencies, this.count);
    return this.sameCurrencyOf;
  }

  /** Whether the transfer at `column` is plain: amount below 2^53, not pending, no metadata. */
  isPlain(column: number): boolean {
    return (
      (this.columns.amounts[column] as number) >= 0 &&
      (this.columns.extras === null || this.columns.extras[column] === undefined)
    );
  }

  spec(column: number): TransferSpec {
    return this.specWith(
      column,
      this.ids[column] as string,
      this.debits[column] as string,
      this.credits[column] as string,
      this.currencies[column] as string,
    );
  }

  /** spec(column), for a reader that asks for the columns in order, 0, 1, 2, ...: the strings
   * are cut out one at a time instead of split all at once (see ColumnCursor). Any other column
   * is read as spec() reads it. */
  specInOrder(column: number): TransferSpec {
    if (column !== this.cursorColumn) return this.spec(column);
    const cursors = (this.cursors ??= {
      ids: new ColumnCursor(this.columns.ids),
      debits: new ColumnCursor(this.columns.debits),
      credits: new ColumnCursor(this.columns.credits),
    });
    this.cursorColumn = column + 1;
    return this.specWith(
      column,
      cursors.ids.next(),
      cursors.debits.next(),
      cursors.credits.next(),
      this.sameCurrency ?? (this.currencies[column] as string),
    );
  }

  /** The spec at `column`, with its strings as the caller read them. */
  private specWith(
    column: number,
    id: string,
    debit: string,
    credit: string,
    currency: string,
  ): TransferSpec {
    const amount = this.columns.amounts[column] as number;
    const extra = this.columns.extras?.[column];
    return {
      id,
      debitAccountId: debit,
      creditAccountId: credit,
      amount: amount >= 0 ? BigInt(amount) : (this.columns.bigAmounts?.[column] as bigint),
      currency,
      pending: extra !== undefined && extra[0] === 1,
      timeoutMs: extra === undefined ? 0 : extra[1],
      metadata: extra === undefined ? null : extra[2],
    };
  }
}
