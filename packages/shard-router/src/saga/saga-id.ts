// Saga ids. They must never repeat in a data dir (the saga index remembers every outcome). A
// random 72-bit prefix per process and a counter make them unique without a crypto call per saga
// (randomBytes was 1.5% of the main thread at 10% cross-shard).

import { randomBytes } from 'node:crypto';

const sagaIdPrefix = randomBytes(9).toString('base64url');
let sagaIdCounter = 0;

/** A new saga id, named after the first transfer of the saga for whoever reads a log. */
export function newSagaId(firstTransferId: string): string {
  sagaIdCounter += 1;
  return `${firstTransferId}~${sagaIdPrefix}${sagaIdCounter.toString(36)}`;
}
