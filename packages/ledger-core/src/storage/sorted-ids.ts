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
