// The contract the harness drives: the public API of `Ledger` from `@shardledger/shard-router`,
// restated here so that the bench compiles and runs (with its peers) before the ledger exists.
// Plugging the real ledger in is one file: `targets/shardledger.ts`.

export type Durability = 'strict' | 'relaxed';

export interface AccountInput {
  readonly id: string;
  readonly currency: string;
  readonly debitsMustNotExceedCredits?: boolean;
}

export interface TransferInput {
  readonly id: string;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly amount: bigint;
  readonly currency: string;
}

/** One result per input, in input order. `status` is 'ok', 'exists' or a result code. */
export interface ItemResult {
  readonly id: string;
  readonly status: string;
}

export interface AccountBalances {
  readonly id: string;
  readonly debitsPosted: bigint;
  readonly creditsPosted: bigint;
  readonly debitsPending: bigint;
  readonly creditsPending: bigint;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly violations: readonly unknown[];
}

export interface LedgerTarget {
  createAccounts(accounts: readonly AccountInput[]): Promise<readonly ItemResult[]>;
  createTransfers(transfers: readonly TransferInput[]): Promise<readonly ItemResult[]>;
  lookupAccounts(ids: readonly string[]): Promise<readonly (AccountBalances | undefined)[]>;
  verify(): Promise<VerifyReport>;
  /** Which shard owns an account: used to build cross-shard workloads. */
  shardOf(accountId: string): number;
  close(): Promise<void>;
}

export interface OpenTargetOptions {
  readonly dir: string;
  readonly shards: number;
  readonly durability: Durability;
}

/** Opens a fresh ledger in an empty directory. */
export type OpenTarget = (options: OpenTargetOptions) => Promise<LedgerTarget>;
