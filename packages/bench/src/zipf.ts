// Zipf-distributed ranks (rank r has weight 1 / r^exponent) by inverse CDF and binary search:
// the `hot` scenario's debit accounts, where a few accounts take most of the traffic.

import type { Prng } from './prng.js';

export interface ZipfSampler {
  /** A rank in [0, count), rank 0 the hottest. */
  sample(prng: Prng): number;
}

export function createZipfSampler(options: { count: number; exponent: number }): ZipfSampler {
  const { count, exponent } = options;
  if (!Number.isInteger(count) || count < 1)
    throw new Error(`zipf count must be >= 1, got ${count}`);
  if (!(exponent > 0)) throw new Error(`zipf exponent must be > 0, got ${exponent}`);
  const cdf = new Float64Array(count);
  let total = 0;
  for (let rank = 0; rank < count; rank++) {
    total += 1 / Math.pow(rank + 1, exponent);
    cdf[rank] = total;
  }
  for (let rank = 0; rank < count; rank++) cdf[rank] = (cdf[rank] as number) / total;
  return {
    sample(prng: Prng): number {
      const u = prng.nextFloat();
      let low = 0;
      let high = count - 1;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if ((cdf[middle] as number) < u) low = middle + 1;
        else high = middle;
      }
      return low;
    },
  };
}
