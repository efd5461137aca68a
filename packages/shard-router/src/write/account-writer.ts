// The Ledger's account writes: each account command goes to the shard its id hashes to, and the
// call's results come back in input order (an invalid input gets its status without being sent).

import { parseAccount, type AccountInput, type CommandStatus } from '@shardledger/ledger-core';
import { statusOf } from '@shardledger/ledger-core/internals';
import { checkBatch, checkIdList, idOf } from '../arguments.js';
import type { LedgerMeters } from '../metrics.js';
import { sendCommandsByShard, type RouterParts, type ShardCommand } from '../router-parts.js';
import type { AccountResult } from '../ledger-types.js';

export type AccountStatusCommand = 'FreezeAccount' | 'UnfreezeAccount' | 'CloseAccount';

/** createAccounts: one CreateAccount per valid input, on its home shard. */
export async function writeAccounts(
  parts: RouterParts,
  meters: LedgerMeters,
  accounts: readonly AccountInput[],
): Promise<AccountResult[]> {
  checkBatch(accounts, 'accounts');
  const startMs = performance.now();
  const statuses: CommandStatus[] = [];
  const commands = accounts.map((input, index): ShardCommand => {
    const parsed = parseAccount(input);
    if (!parsed.ok) {
      statuses[index] = statusOf(parsed.code);
      return null;
    }
    statuses[index] = 'ok';
    return {
      shard: parts.partitions.shardOf(parsed.value.id),
      command: { type: 'CreateAccount', account: parsed.value },
    };
  });
  const sent = await meters.time(
    'createAccounts',
    startMs,
    sendCommandsByShard(parts, commands, statuses),
  );
  return accounts.map((input, index) => ({
    id: idOf(input),
    status: sent[index] as CommandStatus,
  }));
}

/** freezeAccounts, unfreezeAccounts and closeAccounts: one status command per valid id. */
export async function changeAccountStatus(
  parts: RouterParts,
  meters: LedgerMeters,
  change: {
    readonly ids: readonly string[];
    readonly type: AccountStatusCommand;
    readonly operation: 'freezeAccounts' | 'unfreezeAccounts' | 'closeAccounts';
  },
): Promise<AccountResult[]> {
  const startMs = performance.now();
  const checked = checkIdList(change.ids, 'ids');
  const statuses: CommandStatus[] = [];
  const commands = checked.map((id, index): ShardCommand => {
    statuses[index] = id === null ? 'invalid_id' : 'ok';
    return id === null
      ? null
      : { shard: parts.partitions.shardOf(id), command: { type: change.type, accountId: id } };
  });
  const sent = await meters.time(
    change.operation,
    startMs,
    sendCommandsByShard(parts, commands, statuses),
  );
  return change.ids.map((id, index) => ({ id, status: sent[index] as CommandStatus }));
}
