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

/** Bits of an id's prefix in a sort key: five code units of 8 bits (units above 0xff count as
 * 0xff; equal prefixes are ordered by the final pass). */
const PREFIX_UNITS = 5;
/** Indexes take the low 13 bits of a sort key: 40 + 13 bits stay below 2^53. */
const INDEX_BITS = 13;

/** The indexes of `ids` (distinct, at most 2^13) in ascending id order (JavaScript's string
 * order, which searchAscending uses): a native sort of numeric keys built from each id's prefix,
 * then an insertion pass that orders ids sharing a prefix. Several times faster than sorting with
 * a comparator call per comparison. */
export function sortedOrder(ids: readonly string[]): Uint32Array {
  const count = ids.length;
  if (count >= 2 ** INDEX_BITS) {
    const order = Array.from({ length: count }, (_, at) => at);
    order.sort((x, y) => ((ids[x] as string) < (ids[y] as string) ? -1 : 1));
    return Uint32Array.from(order);
  }
  const keys = new Float64Array(count);
  for (let at = 0; at < count; at += 1) {
    const id = ids[at] as string;
    let prefix = 0;
    for (let unit = 0; unit < PREFIX_UNITS; unit += 1) {
      const code = unit < id.length ? Math.min(id.charCodeAt(unit), 0xfe) + 1 : 0;
      prefix = prefix * 256 + code;
    }
    keys[at] = prefix * 2 ** INDEX_BITS + at;
  }
  keys.sort();
  const order = new Uint32Array(count);
  for (let at = 0; at < count; at += 1) order[at] = (keys[at] as number) % 2 ** INDEX_BITS;
  // Ids that share a prefix may be out of order: insertion sort, linear when they are not.
  for (let at = 1; at < count; at += 1) {
    const index = order[at] as number;
    const id = ids[index] as string;
    let to = at;
    while (to > 0 && (ids[order[to - 1] as number] as string) > id) {
      order[to] = order[to - 1] as number;
      to -= 1;
    }
    order[to] = index;
  }
  return order;
}
