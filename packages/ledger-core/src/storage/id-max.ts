// The greatest id an index holds, kept in memory so that a new id needs no disk lookup. While
// every id seen is ASCII, JavaScript's string order equals LMDB's byte order, and `id > max`
// proves that an id is in no index entry. Time-ordered ids (the recommended kind) are each above
// every id before them, so with them almost no lookup of a new id reaches LMDB.

/** Whether every code unit of `text` is ASCII. */
export function isAscii(text: string): boolean {
  for (let index = 0; index < text.length; index += 1)
    if (text.charCodeAt(index) > 0x7f) return false;
  return true;
}

/** The greatest id stored or staged in one index (transfer ids or saga ids). `fastPath` turns
 * false for good at the first id that is not ASCII: from then on `max` proves nothing. */
export class IdMax {
  max = '';
  fastPath = true;

  /** Notes an id written to the index; returns whether it was above every id before it while
   * on the fast path (what lets a saga outcome join its commit's saga run). */
  note(id: string): boolean {
    if (!isAscii(id)) {
      this.fastPath = false;
      return false;
    }
    if (id <= this.max) return false;
    this.max = id;
    return this.fastPath;
  }

  /** Whether `id` is provably in no index entry: above the maximum while on the fast path. */
  isAbove(id: string): boolean {
    return this.fastPath && id > this.max && isAscii(id);
  }
}
