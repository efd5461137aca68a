// Saga outcome runs: the saga index's batched part (ShardDatabases.sagaRuns).
//
// The final outcomes staged in one group commit whose saga ids were each above every saga id
// before them (ShardEngine's saga-id max), stored as ONE value keyed by the first id: one LMDB put
// per call instead of one per saga (a put cost ~4 µs of CPU per saga step here, main thread,
// lmdb-js' write thread and GC together). The ids ascend and are ASCII, so runs never overlap:
// a saga in a run is in the run with the greatest first id <= it. Layout: u32 count, u32 offset
// per entry (from the value's start), then per entry u8 outcome code, u16 id length, id (ASCII).

import { assert } from '../assert.js';
import { LedgerError } from '../errors.js';
import type { SagaOutcome } from '../domain/types.js';
import { bufferView, searchAscending } from './sorted-ids.js';

const OUTCOME_CODES = [
  'reserved',
  'committed',
  'released',
] as const satisfies readonly SagaOutcome[];

export interface SagaRun {
  readonly ids: string[];
  readonly outcomes: SagaOutcome[];
}

export function encodeSagaRun(run: SagaRun): Buffer {
  const count = run.ids.length;
  assert(count > 0 && count === run.outcomes.length, 'a saga run has one outcome per id');
  let size = 4 + 4 * count;
  for (const id of run.ids) size += 3 + id.length;
  const bytes = Buffer.allocUnsafe(size);
  bytes.writeUInt32LE(count, 0);
  let at = 4 + 4 * count;
  for (let index = 0; index < count; index += 1) {
    const id = run.ids[index] as string;
    assert(index === 0 || id > (run.ids[index - 1] as string), 'saga run ids ascend');
    bytes.writeUInt32LE(at, 4 + 4 * index);
    bytes[at] = OUTCOME_CODES.indexOf(run.outcomes[index] as SagaOutcome);
    bytes.writeUInt16LE(id.length, at + 1);
    // ASCII (the engine's rule for runs): one byte per character.
    const written = bytes.write(id, at + 3, 'latin1');
    assert(written === id.length, 'saga run id written whole');
    at += 3 + id.length;
  }
  return bytes;
}

function sagaRunId(bytes: Buffer, index: number): { id: string; at: number } {
  const at = bytes.readUInt32LE(4 + 4 * index);
  return { id: bytes.toString('latin1', at + 3, at + 3 + bytes.readUInt16LE(at + 1)), at };
}

function sagaRunOutcome(bytes: Buffer, at: number): SagaOutcome {
  const outcome = OUTCOME_CODES[bytes[at] as number];
  if (outcome === undefined)
    throw new LedgerError('STORAGE_CORRUPT', { reason: 'saga run outcome code' });
  return outcome;
}

/** The outcome of `sagaId` in a run (binary search), or undefined. */
export function findInSagaRun(value: Uint8Array, sagaId: string): SagaOutcome | undefined {
  const bytes = bufferView(value);
  const index = searchAscending(bytes.readUInt32LE(0), (at) => sagaRunId(bytes, at).id, sagaId);
  return index === -1 ? undefined : sagaRunOutcome(bytes, sagaRunId(bytes, index).at);
}

export function lastIdOfSagaRun(value: Uint8Array): string {
  const bytes = bufferView(value);
  return sagaRunId(bytes, bytes.readUInt32LE(0) - 1).id;
}

/** Every (saga id, outcome) of a run, in order (tests, tools). */
/** How many saga outcomes a saga run's value holds. */
export function sagaRunCount(value: Uint8Array): number {
  return bufferView(value).readUInt32LE(0);
}

/** Every saga id of a saga run's value, in order. */
export function idsOfSagaRun(value: Uint8Array): string[] {
  const bytes = bufferView(value);
  const ids = new Array<string>(bytes.readUInt32LE(0));
  for (let index = 0; index < ids.length; index += 1) ids[index] = sagaRunId(bytes, index).id;
  return ids;
}

export function sagaRunEntries(value: Uint8Array): [string, SagaOutcome][] {
  const bytes = bufferView(value);
  const entries: [string, SagaOutcome][] = [];
  for (let index = 0; index < bytes.readUInt32LE(0); index += 1) {
    const { id, at } = sagaRunId(bytes, index);
    entries.push([id, sagaRunOutcome(bytes, at)]);
  }
  return entries;
}
