// A tiny seeded PRNG (splitmix32) so that every run of a scenario sends the same workload.
// Not cryptographic; chosen for speed and a good spread of low bits.

export interface Prng {
  /** Uniform integer in [0, 2^32). */
  nextUint32(): number;
  /** Uniform float in [0, 1). */
  nextFloat(): number;
  /** Uniform integer in [0, bound); bound must be in [1, 2^32]. */
  nextBelow(bound: number): number;
}

export function createPrng(seed: number): Prng {
  if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
  let state = seed >>> 0;
  const nextUint32 = (): number => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  return {
    nextUint32,
    nextFloat: () => nextUint32() / 4294967296,
    nextBelow: (bound: number) => Math.floor((nextUint32() / 4294967296) * bound),
  };
}
