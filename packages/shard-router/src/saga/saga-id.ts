// Saga ids. They must never repeat in a data dir (the saga index remembers every outcome), and
// each shard keeps the saga outcomes of a commit in one run value when their ids ascend (saga-run
// in ledger-core), with no disk lookup for an id above every one before it. So a saga id is
// - '~', which sorts above the ASCII letters and digits most ids start with;
// - the process's start time in milliseconds, base 36, fixed width: a later process's ids sort
//   above an earlier one's while the clock moves forward (if it does not, the ids are still
//   unique, and only lose the shortcut);
// - a random 72-bit tag of the process, so that two processes never share an id;
// - a counter, fixed width, so that one process's ids ascend.
// Neither part depends on the transfer ids, so random transfer ids (UUIDv4) still give ascending
// saga ids. No crypto call per saga: randomBytes was 1.5% of the main thread at 10% cross-shard.

import { randomBytes } from 'node:crypto';
import { assert } from '@shardledger/ledger-core/internals';

const processPart = `~${Date.now().toString(36).padStart(9, '0')}${randomBytes(9).toString('base64url')}`;
let counter = 0;
/** 36^10: counters past it would break the fixed width. */
const counterMax = 36 ** 10;

/** A new saga id, above every one this process made before. */
export function newSagaId(): string {
  counter += 1;
  assert(counter < counterMax, 'a saga id counter stays within its fixed width');
  return `${processPart}${counter.toString(36).padStart(10, '0')}`;
}
