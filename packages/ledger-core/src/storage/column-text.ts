// A column of strings as the transfer columns carry it (transfer-columns.ts): its values joined
// by '\n', as one string or, when that string would be long, as pieces that each hold whole
// values. The reason is V8's large-object space: a string of 128 KB or more is allocated there,
// and creating one cost about 4 µs per KB on the reference machine, against about 0.1 µs per KB
// below it (a column of 8,190 UUIDv4 ids is 303 KB: 1.2 ms to decode on the shard, and as much
// again to join on the calling thread). Pieces of at most pieceUnits code units stay below it
// even when every unit takes two bytes.

import { assert } from '../assert.js';

/** Values joined by '\n': one string, or pieces in order, each one or more whole values. */
export type ColumnText = string | readonly string[];

/** Most code units in one piece: 2 bytes each at worst, under V8's 128 KB large-object bound. */
export const pieceUnits = 60_000;

/** `values` as column text: one joined string when it fits in a piece, else pieces. */
export function joinColumn(values: readonly string[]): ColumnText {
  let units = values.length - 1;
  for (let at = 0; at < values.length; at += 1) units += (values[at] as string).length;
  if (units <= pieceUnits) return values.join('\n');
  const pieces: string[] = [];
  let from = 0;
  while (from < values.length) {
    let to = from + 1;
    let length = (values[from] as string).length;
    while (to < values.length && length + 1 + (values[to] as string).length <= pieceUnits) {
      length += 1 + (values[to] as string).length;
      to += 1;
    }
    pieces.push(values.slice(from, to).join('\n'));
    from = to;
  }
  return pieces;
}

/** The `count` values of a column text. */
export function splitColumn(text: ColumnText, count: number): string[] {
  if (typeof text === 'string') {
    const values = count === 0 ? [] : text.split('\n');
    assert(values.length === count, 'columns agree');
    return values;
  }
  assert(Array.isArray(text) && (count === 0) === (text.length === 0), 'columns agree');
  const values = new Array<string>(count);
  let at = 0;
  for (const piece of text) {
    assert(typeof piece === 'string', 'a column piece is a string');
    const parts = piece.split('\n');
    assert(at + parts.length <= count, 'columns agree');
    for (let part = 0; part < parts.length; part += 1) values[at + part] = parts[part] as string;
    at += parts.length;
  }
  assert(at === count, 'columns agree');
  return values;
}

/** Whether every value of a column text is ASCII (one native pass per piece: UTF-8 is longer
 * than UTF-16 exactly when a code unit is above 0x7f). */
export function isAsciiColumn(text: ColumnText): boolean {
  if (typeof text === 'string') return Buffer.byteLength(text, 'utf8') === text.length;
  for (const piece of text) if (Buffer.byteLength(piece, 'utf8') !== piece.length) return false;
  return true;
}

/** The one value that all `count` values of a column text are, or null when they differ. Found
 * without splitting: a piece of n values that are all `first` equals first + ('\n' + first) x
 * (n - 1), values never containing '\n'. */
export function sameValue(text: ColumnText, count: number): string | null {
  if (count === 0) return null;
  const pieces = typeof text === 'string' ? [text] : text;
  const head = pieces[0] as string;
  const end = head.indexOf('\n');
  const first = end < 0 ? head : head.slice(0, end);
  let seen = 0;
  for (const piece of pieces) {
    if ((piece.length + 1) % (first.length + 1) !== 0) return null;
    const values = (piece.length + 1) / (first.length + 1);
    if (piece !== first + `\n${first}`.repeat(values - 1)) return null;
    seen += values;
  }
  return seen === count ? first : null;
}

/** Reads a column text's values one after the other, each cut out of its piece when asked for:
 * a reader that walks a column once (the change feed) makes each value as it needs it, so the
 * values die young instead of a whole column's living through a collection, as split ones do. */
export class ColumnCursor {
  readonly #pieces: readonly string[];
  #piece = 0;
  /** Where the next value starts in the current piece. */
  #at = 0;

  constructor(text: ColumnText) {
    this.#pieces = typeof text === 'string' ? [text] : text;
  }

  /** The next value; the caller asks for at most the column's count of them. */
  next(): string {
    let piece = this.#pieces[this.#piece] as string;
    if (this.#at > piece.length) {
      this.#piece += 1;
      this.#at = 0;
      piece = this.#pieces[this.#piece] as string;
      assert(piece !== undefined, 'a column read past its end');
    }
    const end = piece.indexOf('\n', this.#at);
    const stop = end < 0 ? piece.length : end;
    const value = piece.slice(this.#at, stop);
    this.#at = stop + 1;
    return value;
  }
}
