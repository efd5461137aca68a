// Helpers shared by the index values that hold ascending ids (plain runs, plain-run.ts; saga
// runs, saga-run.ts) and by the engine's in-memory runs.

/** `value` as a Buffer over the same memory (no copy). */
export function bufferView(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value)
    ? value
    : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** Binary search for `id` among `count` ascending ids read by `idAt`; its index, or -1. */
export function searchAscending(
  count: number,
  idAt: (index: number) => string,
  id: string,
): number {
  let low = 0;
  let high = count - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const found = idAt(middle);
    if (found === id) return middle;
    if (found < id) low = middle + 1;
    else high = middle - 1;
  }
  return -1;
}

/** The index of the greatest of `count` ascending ids (read by `idAt`) that is <= `id`, or -1
 * when every one is above it: which chunk of a run may hold `id`, by the chunks' first ids. */
export function indexAtOrBelow(count: number, idAt: (index: number) => string, id: string): number {
  let low = 0;
  let high = count - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    if (idAt(middle) <= id) {
      found = middle;
      low = middle + 1;
    } else high = middle - 1;
  }
  return found;
}

/** Code units of an id in a sort key, after the units that every id of the set shares: five of
 * 8 bits (see sortedOrder; ids whose keys are equal are ordered by a final pass). */
const KEY_UNITS = 5;
/** Indexes take the low 13 bits of a sort key: 40 + 13 bits stay below 2^53. */
const INDEX_BITS = 13;
const INDEX_SPAN = 2 ** INDEX_BITS;
/** Ids equal in their key units, at most this many together, are ordered by insertion; more
 * (ids that share a long prefix beyond the common one) by a comparison sort. */
const INSERTION_MAX = 8;

/** The indexes of `ids` (distinct, at most 2^13) in ascending id order (JavaScript's string
 * order, which searchAscending uses): a native sort of numeric keys built from the units of each
 * id that follow the prefix all of them share (so that ids such as 'payment-' + a UUID sort by
 * their random part), then a pass that orders the ids whose keys are equal. Several times faster
 * than sorting with a comparator call per comparison. */
export function sortedOrder(ids: readonly string[]): Uint32Array {
  const count = ids.length;
  const byComparison = (x: number, y: number): number =>
    (ids[x] as string) < (ids[y] as string) ? -1 : 1;
  if (count >= INDEX_SPAN) {
    const order = Array.from({ length: count }, (_, at) => at);
    return Uint32Array.from(order.sort(byComparison));
  }
  const skip = sharedPrefixUnits(ids);
  const keys = new Float64Array(count);
  for (let at = 0; at < count; at += 1) {
    const id = ids[at] as string;
    let prefix = 0;
    let capped = false;
    for (let unit = skip; unit < skip + KEY_UNITS; unit += 1) {
      // A unit past the end is 0; one of 0xfe or more is 0xff and ends what the key reads of
      // the id (the units after it are 0), so that keys never order two ids the wrong way.
      let code = 0;
      if (!capped && unit < id.length) {
        code = Math.min(id.charCodeAt(unit) + 1, 0xff);
        capped = code === 0xff;
      }
      prefix = prefix * 256 + code;
    }
    keys[at] = prefix * INDEX_SPAN + at;
  }
  // Doubles of at least 0 order as their bits do read as unsigned integers, whose native sort is
  // the faster one.
  new BigUint64Array(keys.buffer).sort();
  const order = new Uint32Array(count);
  for (let at = 0; at < count; at += 1) order[at] = (keys[at] as number) % INDEX_SPAN;
  // Runs of equal key units, in key order: each ordered by its ids.
  let from = 0;
  while (from < count) {
    const prefix = Math.floor((keys[from] as number) / INDEX_SPAN);
    let to = from + 1;
    while (to < count && Math.floor((keys[to] as number) / INDEX_SPAN) === prefix) to += 1;
    if (to - from > INSERTION_MAX) order.subarray(from, to).sort(byComparison);
    else if (to - from > 1) insertionSort(ids, order, from, to);
    from = to;
  }
  return order;
}

/** The count of leading code units that every id shares (0 for none or fewer than two ids). */
function sharedPrefixUnits(ids: readonly string[]): number {
  if (ids.length < 2) return 0;
  const first = ids[0] as string;
  let shared = first.length;
  for (let at = 1; at < ids.length && shared > 0; at += 1) {
    const id = ids[at] as string;
    if (id.length < shared) shared = id.length;
    let unit = 0;
    while (unit < shared && id.charCodeAt(unit) === first.charCodeAt(unit)) unit += 1;
    shared = unit;
  }
  return shared;
}

/** Orders positions `from` .. `to` - 1 of `order` by their ids. */
function insertionSort(ids: readonly string[], order: Uint32Array, from: number, to: number): void {
  for (let at = from + 1; at < to; at += 1) {
    const index = order[at] as number;
    const id = ids[index] as string;
    let place = at;
    while (place > from && (ids[order[place - 1] as number] as string) > id) {
      order[place] = order[place - 1] as number;
      place -= 1;
    }
    order[place] = index;
  }
}
