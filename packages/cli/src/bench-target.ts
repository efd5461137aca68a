// The ledger as the bench harness's target. @shardledger/bench may ship its own adapter
// (`openShardledger`, being added in packages/bench/src/targets/shardledger.ts); when its public
// door exports it, that one is used so that `npm run bench` and the harness measure the same thing.

import { mkdir } from 'node:fs/promises';
import type { OpenTarget } from '@shardledger/bench';
import { Ledger } from '@shardledger/shard-router';

const openLedgerTarget: OpenTarget = async (options) => {
  await mkdir(options.dir, { recursive: true }); // Ledger.open takes the dir lock first: the dir must exist
  const ledger = await Ledger.open({ dir: options.dir, shards: options.shards, durability: options.durability });
  return {
    createAccounts: (accounts) => ledger.createAccounts(accounts),
    createTransfers: (transfers) => ledger.createTransfers(transfers),
    lookupAccounts: (ids) => ledger.lookupAccounts(ids),
    verify: () => ledger.verify(),
    shardOf: (accountId) => ledger.shardOf(accountId),
    close: () => ledger.close(),
  };
};

export function shardledgerTarget(bench: object): OpenTarget {
  const shipped = (bench as Record<string, unknown>).openShardledger;
  return typeof shipped === 'function' ? (shipped as OpenTarget) : openLedgerTarget;
}
