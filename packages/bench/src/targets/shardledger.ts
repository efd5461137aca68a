// The real ledger as a bench target. Pending until `@shardledger/shard-router` exports `Ledger`:
// rename this file to `shardledger.ts` (it is then compiled) and pass `openShardledger` as
// `openTarget` to runBench (see run-bench.ts / peers-main.ts `--target shardledger`).

import { Ledger } from '@shardledger/shard-router';
import { mkdir } from 'node:fs/promises';
import type { LedgerTarget, OpenTargetOptions } from '../target.js';

export async function openShardledger(options: OpenTargetOptions): Promise<LedgerTarget> {
  await mkdir(options.dir, { recursive: true }); // Ledger.open wants the directory to exist
  const ledger = await Ledger.open({ dir: options.dir, shards: options.shards, durability: options.durability });
  return {
    createAccounts: (accounts) => ledger.createAccounts(accounts),
    createTransfers: (transfers) => ledger.createTransfers(transfers),
    lookupAccounts: (ids) => ledger.lookupAccounts(ids),
    verify: () => ledger.verify(),
    shardOf: (accountId) => ledger.shardOf(accountId),
    close: () => ledger.close(),
  };
}
