// The Ledger: what an application imports. Accounts hash to virtual partitions, partitions map to
// shards (persisted in the manifest), and each shard is one worker thread owning one LMDB log.
// Transfers with both accounts on one shard go straight to it, coalesced with other calls into
// large messages (write/transfer-writer.ts); the others run as a reserve/commit saga
// (saga/saga-coordinator.ts). The write calls live in write/, opening a data dir in open-ledger.ts.

import {
  LedgerError,
  type AccountInput,
  type PostPendingInput,
  type TransferInput,
  type TransferRecord,
  type VoidPendingInput,
} from '@shardledger/ledger-core';
import { assert } from '@shardledger/ledger-core/internals';
import {
  checkAccountId,
  checkAsOf,
  checkBatch,
  checkEventPage,
  checkHistoryOptions,
  checkIdList,
  checkShardIndex,
} from './arguments.js';
import { backupLedger } from './backup.js';
import { verifyShards } from './cross-shard-verify.js';
import type { DirLock } from './dir-lock.js';
import { ledgerIdentity, type Manifest } from './manifest.js';
import { openLedger, type OpenedLedger, type Recovery } from './open-ledger.js';
import type { RouterParts } from './router-parts.js';
import { ShardBuckets } from './shard-buckets.js';
import type { ShardClient } from './shard/shard-client.js';
import { writeAtomicGroup } from './write/atomic-group.js';
import { resolvePending } from './write/pending-resolution.js';
import { TransferWriter } from './write/transfer-writer.js';
import { CallCoalescer } from './write/call-coalescer.js';
import { listAccounts } from './account-listing.js';
import {
  changeAccountStatus,
  writeAccounts,
  type AccountStatusCommand,
} from './write/account-writer.js';
import { nextHistoryCursor, readHistoryCursor } from './page.js';
import { ChangeFeed } from './feed/change-feed.js';
import type { ChangesOptions } from './feed/change-types.js';
import { LedgerMeters, type LagSource, type LedgerMetrics } from './metrics.js';
import type {
  Account,
  AccountPage,
  AccountResult,
  AsOf,
  BackupResult,
  HistoryPage,
  LedgerInfo,
  LedgerOptions,
  ListAccountsOptions,
  PageOptions,
  SnapshotInfo,
  Transfer,
  TransferResult,
  VerifyResult,
} from './ledger-types.js';

function onlyResult(results: readonly AccountResult[]): AccountResult {
  const [result] = results;
  assert(result !== undefined && results.length === 1, 'one result');
  return result;
}

function publicTransfer(record: TransferRecord, crossShard: boolean): Transfer {
  const { sagaId: _sagaId, resolvedBy: _resolvedBy, ...rest } = record;
  return { ...rest, crossShard };
}

export class Ledger {
  readonly dir: string;
  readonly shards: number;
  private readonly manifest: Manifest;
  private readonly parts: RouterParts;
  private readonly transfers: CallCoalescer;
  private readonly lock: DirLock;
  private readonly options: LedgerOptions;
  private readonly recovery: Recovery;
  private readonly lease: OpenedLedger['lease'];
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly meters: LedgerMeters;

  private constructor(options: LedgerOptions, opened: OpenedLedger) {
    this.options = options;
    this.dir = options.dir;
    this.manifest = opened.manifest;
    this.shards = opened.manifest.shards;
    this.parts = opened.parts;
    const writer = new TransferWriter(opened.parts);
    this.transfers = new CallCoalescer((transfers) => writer.write(transfers));
    this.lock = opened.lock;
    this.recovery = opened.recovery;
    this.lease = opened.lease;
    this.meters = new LedgerMeters(opened, () => this.metrics());
  }

  /** Opens (or creates) a ledger. Resolves once every shard recovered from its log and every
   * saga interrupted by a crash was finished or rolled back. */
  static async open(options: LedgerOptions): Promise<Ledger> {
    return new Ledger(options, await openLedger(options));
  }

  private ensureOpen(): void {
    if (this.closed) throw new LedgerError('LEDGER_CLOSED');
    const lost = this.lease?.lost() ?? null; // its lease taken by another process: no more calls
    if (lost !== null) throw lost;
  }

  /** The shard that owns an account (stable for the life of the data dir). */
  shardOf(accountId: string): number {
    checkAccountId(accountId);
    return this.parts.partitions.shardOf(accountId);
  }

  /** The shard's client (tests and the CLI: failpoints, restart events). */
  shardClient(shard: number): ShardClient {
    checkShardIndex(shard, this.shards);
    const client = this.parts.clients[shard];
    if (client === undefined) throw new LedgerError('INVALID_ARGUMENT', { shard });
    return client;
  }

  async createAccounts(accounts: readonly AccountInput[]): Promise<AccountResult[]> {
    this.ensureOpen();
    return writeAccounts(this.parts, this.meters, accounts);
  }

  /** Freezes accounts: a frozen account takes part in no new transfer, on either side
   * ('account_frozen'), and its open holds may be voided or expire but not posted. 'exists' for
   * an account already frozen; 'account_closed' for a closed one. One result per id, in order. */
  freezeAccounts(ids: readonly string[]): Promise<AccountResult[]> {
    return this.changeStatus(ids, 'FreezeAccount', 'freezeAccounts');
  }

  /** Lifts freezeAccounts. 'exists' for an account that is not frozen; 'account_closed' for a
   * closed one. */
  unfreezeAccounts(ids: readonly string[]): Promise<AccountResult[]> {
    return this.changeStatus(ids, 'UnfreezeAccount', 'unfreezeAccounts');
  }

  /** Closes accounts for good: a closed account takes part in no transfer again
   * ('account_closed') and is never reopened. Only an account whose posted balance is zero and
   * which has nothing pending is closed ('account_balance_not_zero' otherwise); a frozen one
   * may be. 'exists' for an account already closed. */
  closeAccounts(ids: readonly string[]): Promise<AccountResult[]> {
    return this.changeStatus(ids, 'CloseAccount', 'closeAccounts');
  }

  /** Convenience for one account (freezeAccounts). */
  async freezeAccount(id: string): Promise<AccountResult> {
    return onlyResult(await this.freezeAccounts([id]));
  }

  /** Convenience for one account (unfreezeAccounts). */
  async unfreezeAccount(id: string): Promise<AccountResult> {
    return onlyResult(await this.unfreezeAccounts([id]));
  }

  /** Convenience for one account (closeAccounts). */
  async closeAccount(id: string): Promise<AccountResult> {
    return onlyResult(await this.closeAccounts([id]));
  }

  private async changeStatus(
    ids: readonly string[],
    type: AccountStatusCommand,
    operation: 'freezeAccounts' | 'unfreezeAccounts' | 'closeAccounts',
  ): Promise<AccountResult[]> {
    this.ensureOpen();
    return changeAccountStatus(this.parts, this.meters, { ids, type, operation });
  }

  /** A page of accounts in id order, from every shard's account index (never a scan of the
   * log): up to `limit` (default 100, at most limits.pageSizeMax) with ids above `after`, only
   * `currency`'s when given. `next` is the `after` of the next page, null on the last. */
  async listAccounts(options: ListAccountsOptions = {}): Promise<AccountPage> {
    this.ensureOpen();
    return listAccounts(this.parts, options);
  }

  /** Creates transfers; one result per input, in order. Every command reaches each shard in input
   * order: transfers between accounts of one shard are applied in that order, and a cross-shard
   * transfer is reserved on its shards in that order too. Its credit becomes spendable when the
   * saga commits, so a later transfer of the same call spending it may see it still reserved.
   * A transfer id is unique across the ledger, whatever shards its accounts live on
   * (write/id-check.ts). */
  async createTransfers(transfers: readonly TransferInput[]): Promise<TransferResult[]> {
    this.ensureOpen();
    checkBatch(transfers, 'transfers');
    const startMs = performance.now();
    return this.meters.timeTransfers('createTransfers', startMs, this.transfers.write(transfers));
  }

  /** Convenience for one transfer. */
  async createTransfer(transfer: TransferInput): Promise<TransferResult> {
    const [result] = await this.createTransfers([transfer]);
    assert(result !== undefined, 'one result');
    return result;
  }

  /** All-or-nothing: either every transfer is applied, or none is and each result says why
   * (the failing ones with their code, the others with 'linked_transfer_failed'). */
  async createAtomicGroup(transfers: readonly TransferInput[]): Promise<TransferResult[]> {
    this.ensureOpen();
    checkBatch(transfers, 'transfers');
    const startMs = performance.now();
    const written = writeAtomicGroup(this.parts, transfers);
    return this.meters.timeTransfers('createAtomicGroup', startMs, written);
  }

  /** Two-phase: posts pending transfers (the full amount, or a smaller `amount`). */
  async postPendingTransfers(inputs: readonly PostPendingInput[]): Promise<TransferResult[]> {
    this.ensureOpen();
    checkBatch(inputs, 'inputs');
    const startMs = performance.now();
    const written = resolvePending(this.parts, inputs, 'post');
    return this.meters.timeTransfers('postPendingTransfers', startMs, written);
  }

  /** Two-phase: voids pending transfers, releasing the pending amount. */
  async voidPendingTransfers(inputs: readonly VoidPendingInput[]): Promise<TransferResult[]> {
    this.ensureOpen();
    checkBatch(inputs, 'inputs');
    const startMs = performance.now();
    const written = resolvePending(this.parts, inputs, 'void');
    return this.meters.timeTransfers('voidPendingTransfers', startMs, written);
  }

  async lookupAccounts(ids: readonly string[]): Promise<(Account | undefined)[]> {
    this.ensureOpen();
    const checked = checkIdList(ids, 'ids');
    const buckets = new ShardBuckets<string>();
    checked.forEach((id, index) => {
      if (id !== null) buckets.add(this.shardOf(id), id, index);
    });
    return buckets.scatter(
      new Array<Account | undefined>(ids.length).fill(undefined),
      (shard, asked) => this.shardClient(shard).lookupAccounts(asked),
    );
  }

  /** Looks transfers up on every shard (an id is not routed by itself). A cross-shard transfer is
   * recorded on both of its shards; the debit shard's record is returned. */
  async lookupTransfers(ids: readonly string[]): Promise<(Transfer | undefined)[]> {
    this.ensureOpen();
    const checked = checkIdList(ids, 'ids');
    // Only valid ids are asked for: no other string can name a stored transfer.
    const asked = checked.filter((id): id is string => id !== null);
    const answers = await Promise.all(
      this.parts.clients.map((client) => client.lookupTransfers(asked)),
    );
    let next = 0;
    const positions = checked.map((id) => (id !== null ? next++ : -1));
    return checked.map((_, index) => {
      const at = positions[index] as number;
      if (at < 0) return undefined;
      for (const records of answers) {
        const record = records[at];
        if (record === undefined) continue;
        const debitShard = this.shardOf(record.debitAccountId);
        const creditShard = this.shardOf(record.creditAccountId);
        if (debitShard === creditShard) return publicTransfer(record, false);
        if (debitShard !== answers.indexOf(records)) continue;
        // Across shards, the transfer's time is when both of its sides hold it (posted, or
        // pending for a hold): the later of the two sides' times. An account's balanceAsOf that
        // time then includes it, as on one shard.
        const credit = answers[creditShard]?.[at];
        const timestamp =
          credit !== undefined && credit.timestamp > record.timestamp
            ? credit.timestamp
            : record.timestamp;
        return publicTransfer({ ...record, timestamp }, true);
      }
      return undefined;
    });
  }

  /** Postings of one account in the order its shard logged them, a page at a time: up to
   * `limit` (default 100, at most limits.pageSizeMax) after the cursor `after`. `next` is the
   * `after` of the next page, null on the last. An unknown account has no postings. */
  async accountHistory(accountId: string, options: PageOptions = {}): Promise<HistoryPage> {
    this.ensureOpen();
    checkAccountId(accountId);
    const { after, limit } = checkHistoryOptions(options);
    const page = await this.shardClient(this.shardOf(accountId)).accountHistory(accountId, {
      ...readHistoryCursor(after),
      limit,
      sagaSteps: 'transfers',
    });
    return { entries: page.entries, next: nextHistoryCursor(page) };
  }

  /** The account as it was at a past moment (AsOf: a sequence number of its shard or a
   * timestamp); undefined when it did not exist then. */
  async balanceAsOf(accountId: string, at: AsOf = {}): Promise<Account | undefined> {
    this.ensureOpen();
    checkAccountId(accountId);
    return this.shardClient(this.shardOf(accountId)).balanceAsOf(accountId, checkAsOf(at));
  }

  /** Checks every invariant across all shards; never throws on a violation. At quiescence:
   * total debits equal total credits per currency, pending totals match, no saga is left in
   * flight, every cross-shard hold is open on both of its shards, and every shard's replay from
   * event 1 equals its live state. */
  async verify(): Promise<VerifyResult> {
    this.ensureOpen();
    return verifyShards(this.parts);
  }

  /** Takes a snapshot of every shard now. */
  snapshot(): Promise<SnapshotInfo[]> {
    this.ensureOpen();
    return Promise.all(this.parts.clients.map((client) => client.snapshot()));
  }

  /** Copies the running ledger into `target`, a path that must not exist yet: every shard's
   * databases and snapshots, and last the manifest, at one cut taken across all shards while no
   * message is in flight between them (backup.ts), so the copy is a state the ledger was in.
   * Every call acknowledged before backup() was called is in the copy; calls in flight meanwhile
   * may be, whole. Writes pause for about one commit while the cut is taken, then go on while
   * the copy is written. A copy cut short has no manifest and Ledger.open refuses it
   * (NOT_A_LEDGER). */
  async backup(target: string): Promise<BackupResult> {
    this.ensureOpen();
    return backupLedger({ dir: this.dir, clients: this.parts.clients }, target);
  }

  async info(): Promise<LedgerInfo> {
    this.ensureOpen();
    return {
      dir: this.dir,
      ledgerId: ledgerIdentity(this.manifest),
      shards: this.shards,
      partitionCount: this.manifest.partitionCount,
      hash: this.manifest.hash,
      durability: this.options.durability ?? 'strict',
      shardInfo: await Promise.all(this.parts.clients.map((client) => client.info())),
      recovery: this.recovery,
    };
  }

  /** The figures an operator watches, as the OpenTelemetry instruments report them (metrics.ts). */
  async metrics(): Promise<LedgerMetrics> {
    this.ensureOpen();
    return this.meters.collect();
  }

  /** Reports a read model's lag in metrics() until the returned function is called or close. */
  trackReadModel(model: LagSource): () => void {
    this.ensureOpen();
    return this.meters.trackReadModel(model);
  }

  /** Events of one shard after a sequence number (export, projections). */
  async readEvents(
    shard: number,
    afterSequence: number,
    limit: number,
  ): ReturnType<ShardClient['readEvents']> {
    this.ensureOpen();
    checkShardIndex(shard, this.shards);
    checkEventPage(afterSequence, limit);
    return this.shardClient(shard).readEvents(afterSequence, limit);
  }

  /** Every committed event of every shard, each with its accounts' balances after it, as an
   * async iterator that reads behind the writers from the shards' logs (feed/change-feed.ts). */
  changes(options: ChangesOptions = {}): ChangeFeed {
    this.ensureOpen();
    return new ChangeFeed(this, options);
  }

  /** Waits for sagas in doubt to settle, closes every shard and releases the dir lock. Safe to
   * call more than once, at once too (from a signal handler while calls are in flight): every
   * call resolves when the ledger is closed. */
  close(): Promise<void> {
    this.closed = true;
    this.closing ??= this.closeNow();
    return this.closing;
  }

  private async closeNow(): Promise<void> {
    // Calls made before close are sent, not dropped.
    this.transfers.flush();
    this.meters.close();
    this.parts.sagas.stop();
    await this.parts.sagas.settle().catch(() => undefined);
    await Promise.allSettled(this.parts.clients.map((client) => client.close()));
    await this.lease?.release();
    await this.lock.release();
  }
}
