// The real ledger as a bench target (runBench's default `openTarget`).

import { Ledger } from '@shardledger/shard-router';
import { mkdir } from 'node:fs/promises';
import type { LedgerTarget, OpenTargetOptions } from '../target.js';

/** An open Ledger seen as a bench target. */
export function ledgerTarget(ledger: Ledger): LedgerTarget {
  return {
    createAccounts: (accounts) => ledger.createAccounts(accounts),
    createTransfers: (transfers) => ledger.createTransfers(transfers),
    lookupAccounts: (ids) => ledger.lookupAccounts(ids),
    verify: () => ledger.verify(),
    shardOf: (accountId) => ledger.shardOf(accountId),
    close: () => ledger.close(),
  };
}

export async function openShardledger(options: OpenTargetOptions): Promise<LedgerTarget> {
  await mkdir(options.dir, { recursive: true }); // Ledger.open wants the directory to exist
  return ledgerTarget(
    await Ledger.open({ dir: options.dir, shards: options.shards, durability: options.durability }),
  );
}
