// Atomic groups (Ledger.createAtomicGroup): linked transfers applied all together or not at all.
// A group whose accounts all live on one shard is one CreateTransferGroup command there; a group
// spanning shards runs as one saga (SagaCoordinator.run). Its ids are checked across shards like
// any transfer's (id-check.ts), and a group spanning shards also refuses an id repeated inside it,
// which no one shard sees whole.

import {
  LedgerError,
  limits,
  parseTransfer,
  type CommandStatus,
  type TransferInput,
  type TransferSpec,
} from '@shardledger/ledger-core';
import { assert, statusOf } from '@shardledger/ledger-core/internals';
import { idOf } from '../arguments.js';
import type { TransferResult } from '../ledger-types.js';
import { clientOf, type RouterParts } from '../router-parts.js';
import {
  refuseTakenIds,
  withIdSegment,
  type CheckedTransfer,
  type IdSegment,
  type TransferIdGuard,
} from './id-check.js';

/** Ledger.createAtomicGroup once `transfers` is known to be an array: either every transfer is
 * applied, or none is and each result says why (the failing ones with their code, the others
 * with 'linked_transfer_failed'). */
export async function writeAtomicGroup(
  parts: RouterParts,
  transfers: readonly TransferInput[],
): Promise<TransferResult[]> {
  if (transfers.length === 0) return [];
  if (transfers.length > limits.groupSizeMax)
    throw new LedgerError('BATCH_TOO_LARGE', {
      size: transfers.length,
      max: limits.groupSizeMax,
    });
  const specs: TransferSpec[] = [];
  const invalid: (CommandStatus | null)[] = transfers.map((input) => {
    const parsed = parseTransfer(input);
    if (!parsed.ok) return statusOf(parsed.code);
    specs.push(parsed.value);
    return null;
  });
  const statuses = invalid.some((status) => status !== null)
    ? invalid.map((status) => status ?? 'linked_transfer_failed')
    : await withIdSegment(parts.transferIds, (segment) => sendGroup(parts, specs, segment));
  return transfers.map((input, index) => ({
    id: idOf(input),
    status: statuses[index] as CommandStatus,
  }));
}

/** A group once every member is valid: refused whole when a member's id is taken (on a shard
 * outside its home, or by an earlier member of a group spanning shards, which no one shard sees
 * whole), else run on its one shard or as a saga. */
async function sendGroup(
  parts: RouterParts,
  specs: readonly TransferSpec[],
  segment: IdSegment | null,
): Promise<CommandStatus[]> {
  const checked: CheckedTransfer[] = specs.map((spec, index) => ({
    index,
    id: spec.id,
    spec,
    debitShard: parts.partitions.shardOf(spec.debitAccountId),
    creditShard: parts.partitions.shardOf(spec.creditAccountId),
    slow: segment !== null && (parts.transferIds as TransferIdGuard).take(segment, spec.id),
  }));
  const shards = new Set(checked.flatMap((entry) => [entry.debitShard, entry.creditShard]));
  if (segment !== null) {
    const taken = await takenInGroup(parts, segment, checked, shards.size > 1);
    if (taken.some((status) => status !== undefined))
      return taken.map((status) => status ?? 'linked_transfer_failed');
  }
  if (shards.size === 1) {
    const [result] = await clientOf(parts, [...shards][0] as number).submit([
      { type: 'CreateTransferGroup', transfers: specs },
    ]);
    assert(result !== undefined, 'one result');
    return specs.map((_, index) => result.statuses?.[index] ?? result.status);
  }
  if (specs.some((spec) => spec.pending))
    return specs.map((spec) =>
      spec.pending ? 'cross_shard_pending_unsupported' : 'linked_transfer_failed',
    );
  return parts.sagas.run(specs);
}

/** Per member, the status that refuses it for its id, or undefined: an id repeated inside a group
 * that spans shards (`spansShards`), else an id taken on a shard outside its home. */
async function takenInGroup(
  parts: RouterParts,
  segment: IdSegment,
  checked: readonly CheckedTransfer[],
  spansShards: boolean,
): Promise<(CommandStatus | undefined)[]> {
  const taken = new Array<CommandStatus | undefined>(checked.length).fill(undefined);
  if (spansShards) {
    const seen = new Set<string>();
    checked.forEach((entry, index) => {
      if (seen.has(entry.id)) taken[index] = 'duplicate_id_in_group';
      seen.add(entry.id);
    });
  }
  if (taken.every((status) => status === undefined))
    await refuseTakenIds(parts, segment, checked, taken);
  return taken;
}
