// The checks every public argument and option passes on the calling thread, one helper per shape.
// Anything malformed is refused here with INVALID_ARGUMENT (BATCH_TOO_LARGE for a long list), so
// it never reaches a shard worker: a worker treats an error it did not expect as a broken shard
// and restarts, failing the other callers' writes in flight.

import { replicationSettings } from './replication/replication-options.js';
import { LedgerError, limits } from '@shardledger/ledger-core';
import { isValidId } from '@shardledger/ledger-core/internals';
import { assertShardCount } from './partition.js';
import { checkPage, type CheckedPage } from './page.js';

/** The longest saga step timeout an application may set (LedgerOptions.sagaStepTimeoutMs). */
export const sagaStepTimeoutMsMax = 3_600_000;

function refuse(field: string, problem: string): never {
  throw new LedgerError('INVALID_ARGUMENT', { field, problem });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkOptional(
  value: unknown,
  field: string,
  check: (value: unknown) => boolean,
  problem: string,
): void {
  if (value !== undefined && !check(value)) refuse(field, problem);
}

function isCount(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}

/** An optional event sequence: an integer of at least 0. */
function checkSequence(value: unknown, field: string): void {
  checkOptional(
    value,
    field,
    (item) => isCount(item, 0, Number.MAX_SAFE_INTEGER),
    'an integer of at least 0',
  );
}

/** An optional timestamp: a bigint of at least 0, in ns since the epoch. */
function checkTimestamp(value: unknown, field: string): void {
  checkOptional(
    value,
    field,
    (item) => typeof item === 'bigint' && item >= 0n,
    'a bigint of at least 0 (ns since the epoch)',
  );
}

/** The id a write call reports for an input, whatever the input is: its `id` when a string,
 * else a string that never throws (String() of an object calls its own toString, which may throw
 * or be absent: a null prototype). */
export function idOf(input: unknown): string {
  const id =
    typeof input === 'object' && input !== null ? (input as { id?: unknown }).id : undefined;
  if (typeof id === 'string') return id;
  return typeof id === 'object' || typeof id === 'function'
    ? Object.prototype.toString.call(id)
    : String(id);
}

/** `replication` is checked field by field, and goes with `replicated` durability only. */
function checkReplicationOptions(replication: unknown, durability: unknown): void {
  if (replication !== undefined) replicationSettings(replication);
  const replicated = durability === 'replicated' || durability === undefined;
  if (replication === undefined ? durability === 'replicated' : !replicated)
    refuse('durability', "'replicated' exactly when replication is given");
}

/** Every LedgerOptions field, by type and range (Ledger.open). */
export function checkLedgerOptions(options: unknown): void {
  if (!isPlainObject(options)) refuse('options', 'must be an object');
  const dir = options['dir'];
  if (typeof dir !== 'string' || dir === '') refuse('dir', 'required: a non-empty path');
  // Node refuses such a path with a raw TypeError deep in fs.
  if (dir.includes('\0')) refuse('dir', 'must not contain a NUL character');
  if (options['shards'] !== undefined) assertShardCount(options['shards']);
  checkOptional(
    options['durability'],
    'durability',
    (value) => value === 'strict' || value === 'relaxed' || value === 'replicated',
    "'strict', 'relaxed' or 'replicated'",
  );
  checkReplicationOptions(options['replication'], options['durability']);
  checkOptional(
    options['snapshotIntervalEvents'],
    'snapshotIntervalEvents',
    (value) => isCount(value, 1, Number.MAX_SAFE_INTEGER),
    'an integer of at least 1',
  );
  checkOptional(
    options['snapshotIntervalMs'],
    'snapshotIntervalMs',
    (value) => isCount(value, 0, Number.MAX_SAFE_INTEGER),
    'an integer of at least 0 (0 disables)',
  );
  checkOptional(
    options['accountHistory'],
    'accountHistory',
    (value) => typeof value === 'boolean',
    'a boolean',
  );
  checkOptional(
    options['transferIdScope'],
    'transferIdScope',
    (value) => value === 'ledger' || value === 'shard',
    "'ledger' or 'shard'",
  );
  checkOptional(
    options['sagaStepTimeoutMs'],
    'sagaStepTimeoutMs',
    (value) => isCount(value, 1, sagaStepTimeoutMsMax),
    `an integer from 1 to ${sagaStepTimeoutMsMax}`,
  );
  checkOptional(
    options['shardYoungGenerationMb'],
    'shardYoungGenerationMb',
    (value) => isCount(value, 1, 1024),
    'an integer from 1 to 1024',
  );
  checkOptional(
    options['failpoints'],
    'failpoints',
    (value) => typeof value === 'string',
    'a string',
  );
}

/** An array of at most limits.batchSizeMax items (the write calls check each item themselves and
 * answer a bad one with its rejection status). */
export function checkBatch(items: unknown, field: string): asserts items is readonly unknown[] {
  if (!Array.isArray(items)) refuse(field, 'must be an array');
  if (items.length > limits.batchSizeMax)
    throw new LedgerError('BATCH_TOO_LARGE', { size: items.length, max: limits.batchSizeMax });
}

/** The ids of a lookup: an array (checkBatch) of strings, read once each. Returns a copy that
 * has each valid id, and null where a string is not a valid id: no such string can name a
 * stored item, so the caller answers it `undefined` without asking a shard (an over-long key
 * would make LMDB throw inside the worker). */
export function checkIdList(ids: unknown, field: string): (string | null)[] {
  checkBatch(ids, field);
  const checked = new Array<string | null>(ids.length);
  for (let index = 0; index < ids.length; index += 1) {
    const id: unknown = ids[index];
    if (typeof id !== 'string') refuse(`${field}[${index}]`, 'must be a string');
    checked[index] = isValidId(id) ? id : null;
  }
  return checked;
}

/** An account id that a call routes to its shard (accountHistory, balanceAsOf, shardOf). */
export function checkAccountId(id: unknown, field = 'accountId'): asserts id is string {
  if (!isValidId(id))
    refuse(field, 'an id: 1 to 128 UTF-8 bytes of well-formed text without control characters');
}

/** accountHistory's options: absent, or an object with a page's `after` and `limit`
 * (page.ts). Returns a copy of what was checked (a getter could answer differently when the
 * message to the shard is encoded). */
export function checkHistoryOptions(options: unknown): CheckedPage {
  if (options === undefined) return checkPage({});
  if (!isPlainObject(options)) refuse('options', 'must be an object');
  return checkPage(options);
}

/** balanceAsOf's moment: an object with an optional sequence (an integer of at least 0) and an
 * optional timestamp (a bigint of at least 0); with neither, now. Returns a copy of what was
 * checked. */
export function checkAsOf(at: unknown): { sequence?: number; timestamp?: bigint } {
  if (!isPlainObject(at)) refuse('at', 'an object with a sequence, a timestamp, or neither (now)');
  const { sequence, timestamp } = at;
  checkSequence(sequence, 'sequence');
  checkTimestamp(timestamp, 'timestamp');
  return {
    ...(sequence === undefined ? {} : { sequence: sequence as number }),
    ...(timestamp === undefined ? {} : { timestamp: timestamp as bigint }),
  };
}

/** A shard index of a ledger with `shards` shards. */
export function checkShardIndex(shard: unknown, shards: number): asserts shard is number {
  if (!isCount(shard, 0, shards - 1)) refuse('shard', `an integer from 0 to ${shards - 1}`);
}

/** readEvents' position and page: afterSequence an integer of at least 0, limit 1 to
 * limits.pageSizeMax. */
export function checkEventPage(afterSequence: unknown, limit: unknown): void {
  if (!isCount(afterSequence, 0, Number.MAX_SAFE_INTEGER))
    refuse('afterSequence', 'an integer of at least 0');
  if (!isCount(limit, 1, limits.pageSizeMax))
    refuse('limit', `an integer from 1 to ${limits.pageSizeMax}`);
}

/** ReadModel.statement's options: an account id, optional from/to bigints, and a page's `after`
 * and `limit` (page.ts). */
export function checkStatementOptions(options: unknown): CheckedPage {
  if (!isPlainObject(options)) refuse('options', 'must be an object');
  checkAccountId(options['accountId']);
  checkTimestamp(options['from'], 'from');
  checkTimestamp(options['to'], 'to');
  return checkPage(options);
}

/** ReadModel.transfersByMetadata's options: a key and a value (strings), and a page's `after`
 * and `limit` (page.ts). */
export function checkMetadataQuery(options: unknown): CheckedPage {
  if (!isPlainObject(options)) refuse('options', 'must be an object');
  if (typeof options['key'] !== 'string') refuse('key', 'a string');
  if (typeof options['value'] !== 'string') refuse('value', 'a string');
  return checkPage(options);
}
