// Posting and voiding pending transfers (Ledger.postPendingTransfers, voidPendingTransfers). A
// pending transfer between accounts of one shard is resolved by a command on that shard. A
// cross-shard hold (a pending transfer whose saga keeps it reserved on both of its shards) is
// resolved through its saga's two steps (SagaCoordinator.resolveHold), decided by its debit shard.
// A resolution has a transfer id of its own, checked across shards like any other (id-check.ts).

import {
  parseResolution,
  type Command,
  type CommandStatus,
  type PendingResolutionSpec,
  type PostPendingInput,
  type TransferRecord,
  type TransferSpec,
  type VoidPendingInput,
} from '@shardledger/ledger-core';
import { statusOf } from '@shardledger/ledger-core/internals';
import { idOf } from '../arguments.js';
import type { TransferResult } from '../ledger-types.js';
import {
  clientOf,
  sendCommandsByShard,
  type RouterParts,
  type ShardCommand,
} from '../router-parts.js';
import {
  refuseTakenIds,
  withIdSegment,
  type CheckedTransfer,
  type IdSegment,
  type TransferIdGuard,
} from './id-check.js';

export type ResolveAction = 'post' | 'void';

/** A cross-shard hold to resolve: its saga, its transfer and its two shards. */
interface Hold {
  readonly sagaId: string;
  readonly transfer: TransferSpec;
  readonly debitShard: number;
  readonly creditShard: number;
}

/** The resolutions of one call, before any is sent: per input a command on the shard that
 * resolves it, or null with its status already in `statuses`; and the inputs that resolve a
 * cross-shard hold, by position (their command goes through the hold's saga instead). */
interface ResolutionPlan {
  readonly statuses: CommandStatus[];
  readonly commands: ShardCommand[];
  readonly holds: Map<number, Hold>;
}

/** The transfer a record stands for (a cross-shard hold's, to post or void it). */
function plainSpecOf(record: TransferRecord): TransferSpec {
  const { id, debitAccountId, creditAccountId, amount, currency, pending, timeoutMs, metadata } =
    record;
  return { id, debitAccountId, creditAccountId, amount, currency, pending, timeoutMs, metadata };
}

/** Ledger.postPendingTransfers or voidPendingTransfers once `inputs` is known to be an array. */
export async function resolvePending(
  parts: RouterParts,
  inputs: readonly (PostPendingInput | VoidPendingInput)[],
  action: ResolveAction,
): Promise<TransferResult[]> {
  const plan = await planResolutions(parts, inputs, action);
  return withIdSegment(parts.transferIds, async (segment) => {
    if (segment !== null) await refuseTakenResolutionIds(parts, segment, plan);
    const statuses = await sendResolutions(parts, plan, action);
    return inputs.map((input, index) => ({
      id: idOf(input),
      status: statuses[index] as CommandStatus,
    }));
  });
}

/** Parses each input and finds its pending transfer (locatePending). */
async function planResolutions(
  parts: RouterParts,
  inputs: readonly (PostPendingInput | VoidPendingInput)[],
  action: ResolveAction,
): Promise<ResolutionPlan> {
  const statuses: CommandStatus[] = new Array<CommandStatus>(inputs.length);
  const parsed = inputs.map((input) => parseResolution(input, action === 'post'));
  const pendingIds = parsed.map((entry) => (entry.ok ? entry.value.pendingId : ''));
  const located = await locatePending(parts, pendingIds);
  const holds = new Map<number, Hold>();
  const commands = parsed.map((entry, index): ShardCommand => {
    if (!entry.ok) {
      statuses[index] = statusOf(entry.code);
      return null;
    }
    const found = located[index];
    if (found === undefined) {
      statuses[index] = 'pending_not_found';
      return null;
    }
    const { shard, record } = found;
    if (record !== null && record.sagaId !== null && record.kind === 'transfer' && record.pending) {
      holds.set(index, {
        sagaId: record.sagaId,
        transfer: plainSpecOf(record),
        debitShard: shard,
        creditShard: parts.partitions.shardOf(record.creditAccountId),
      });
    }
    const type = action === 'post' ? 'PostPendingTransfer' : 'VoidPendingTransfer';
    return { shard, command: { type, resolution: entry.value } as Command };
  });
  return { statuses, commands, holds };
}

/** Where each pending transfer lives: the shard that resolves it (for a cross-shard hold, its
 * debit shard, which decides) and its record (null for a hold open on its shard: the command
 * needs none). An open hold of one shard is found in the shards' memory (openHolds) without
 * reading its record, which cost the shard an index lookup and the record's encoding per id, and
 * this thread its decoding: the common case, the post or void of a live hold. That answer is the
 * record's own only where an id names one transfer in the whole ledger (one shard, or
 * transferIdScope 'ledger'): with ids unique per shard, another shard may hold a transfer of the
 * same id. The records are read for the other ids (a cross-shard hold, one posted, voided or
 * expired, none), and for every id where ids are unique per shard. */
async function locatePending(
  parts: RouterParts,
  pendingIds: readonly string[],
): Promise<({ shard: number; record: TransferRecord | null } | undefined)[]> {
  const located = new Array<{ shard: number; record: TransferRecord | null } | undefined>(
    pendingIds.length,
  );
  let unknown = pendingIds.map((_, index) => index);
  // One shard, or a guard of ids across shards (transferIdScope 'ledger'): an id names one
  // transfer in the whole ledger.
  if (parts.clients.length === 1 || parts.transferIds !== null) {
    const open = await Promise.all(parts.clients.map((client) => client.openHolds(pendingIds)));
    unknown = unknown.filter((index) => {
      const shard = open.findIndex((flags) => flags[index] === 1);
      if (shard !== -1) located[index] = { shard, record: null };
      return shard === -1;
    });
  }
  if (unknown.length === 0) return located;
  const ids = unknown.map((index) => pendingIds[index] as string);
  const found = await Promise.all(parts.clients.map((client) => client.lookupTransfers(ids)));
  unknown.forEach((index, at) => {
    for (let shard = 0; shard < found.length; shard += 1) {
      const record = found[shard]?.[at];
      if (record === undefined) continue;
      const debitShard = parts.partitions.shardOf(record.debitAccountId);
      if (record.sagaId !== null && debitShard !== shard) continue;
      located[index] = { shard: record.sagaId !== null ? debitShard : shard, record };
      return;
    }
  });
  return located;
}

/** The resolution of a command planned for a shard. */
function resolutionOf(entry: NonNullable<ShardCommand>): PendingResolutionSpec {
  return (entry.command as { resolution: PendingResolutionSpec }).resolution;
}

/** The resolutions' own ids are transfer ids too: a taken one is refused (its home is the pending
 * transfer's shard, the deciding one for a cross-shard hold) and its command dropped from the
 * plan. The credit shard of a cross-shard hold records its post or void too: found there, this
 * very resolution is left to the deciding shard, which answers as one shard would. */
async function refuseTakenResolutionIds(
  parts: RouterParts,
  segment: IdSegment,
  plan: ResolutionPlan,
): Promise<void> {
  const guard = parts.transferIds as TransferIdGuard;
  const checked: CheckedTransfer[] = [];
  plan.commands.forEach((entry, index) => {
    if (entry === null) return;
    const id = resolutionOf(entry).id;
    checked.push({
      index,
      id,
      spec: null,
      debitShard: entry.shard,
      creditShard: entry.shard,
      slow: guard.take(segment, id),
    });
  });
  await refuseTakenIds(parts, segment, checked, plan.statuses, (entry, record) => {
    const hold = plan.holds.get(entry.index);
    return (
      hold !== undefined && record.kind !== 'transfer' && record.pendingId === hold.transfer.id
    );
  });
  for (const entry of checked)
    if (plan.statuses[entry.index] !== undefined) plan.commands[entry.index] = null;
}

/** Posts a cross-shard hold, unless its credit account (on the other shard) is frozen or closed:
 * refused then as on one shard ('account_frozen', 'account_closed'; the debit shard checks its
 * own account when it decides), except when this very post was decided before (a retry), which
 * stands. A freeze that lands between this look and the post does not stop the post. */
async function postHold(
  parts: RouterParts,
  hold: Hold,
  resolution: PendingResolutionSpec,
): Promise<CommandStatus> {
  const creditClient = clientOf(parts, hold.creditShard);
  const [credit] = await creditClient.lookupAccounts([hold.transfer.creditAccountId]);
  if (credit !== undefined && credit.status !== 'open') {
    const [decided] = await clientOf(parts, hold.debitShard).lookupTransfers([resolution.id]);
    if (decided === undefined)
      return credit.status === 'closed' ? 'account_closed' : 'account_frozen';
  }
  return parts.sagas.resolveHold(hold, resolution, 'post');
}

/** Sends the planned resolutions: a cross-shard hold's through its saga's two steps, the rest by
 * shard; returns each input's status. */
async function sendResolutions(
  parts: RouterParts,
  plan: ResolutionPlan,
  action: ResolveAction,
): Promise<CommandStatus[]> {
  const { commands, holds } = plan;
  const holdResults = new Map<number, Promise<CommandStatus>>();
  for (const [index, hold] of holds) {
    const entry = commands[index];
    if (entry === null || entry === undefined) continue;
    const resolution = resolutionOf(entry);
    holdResults.set(
      index,
      action === 'post'
        ? postHold(parts, hold, resolution)
        : parts.sagas.resolveHold(hold, resolution, 'void'),
    );
    commands[index] = null;
  }
  const statuses = await sendCommandsByShard(parts, commands, plan.statuses);
  for (const [index, result] of holdResults) statuses[index] = await result;
  return statuses;
}
