// The Ledger: what an application imports. Accounts hash to virtual partitions, partitions map to
// shards (persisted in the manifest), and each shard is one worker thread owning one LMDB log.
// Transfers with both accounts on one shard go straight to it, coalesced with other calls into
// large messages; the others run as a reserve/commit saga (saga-coordinator.ts).

import { mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import {
  CommandBatchBuilder,
  LedgerError,
  assert,
  limits,
  isLedgerError,
  parseAccount,
  parseResolution,
  isRejected,
  parseTransfer,
  plainTransferSpec,
  readPlainTransfer,
  sameTransfer,
  statusOf,
  transferSpecOrRejection,
  type AccountInput,
  type Command,
  type CommandStatus,
  type PendingResolutionSpec,
  type PostPendingInput,
  type PlainTransferFields,
  type Rejected,
  type TransferInput,
  type TransferRecord,
  type TransferSpec,
  type VoidPendingInput,
} from '@shardledger/ledger-core';
import {
  checkAccountId,
  checkAsOf,
  checkBatch,
  checkEventPage,
  checkHistoryOptions,
  checkIdList,
  checkLedgerOptions,
  checkShardIndex,
} from './arguments.js';
import { acquireDirLock, type DirLock } from './dir-lock.js';
import { backupLedger } from './backup.js';
import {
  finishCreation,
  ledgerIdentity,
  refuseForeignDir,
  openOrCreateManifest,
  partitionMapDigest,
  readManifest,
  type Manifest,
} from './manifest.js';
import { AccountShardMemo, PartitionMap } from './partition.js';
import { failpoint, failpointNames } from './failpoints.js';
import { SagaBatch } from './saga/saga-batch.js';
import { SagaCoordinator } from './saga/saga-coordinator.js';
import { ShardClient } from './shard/shard-client.js';
import type { SubmitResults } from './shard/send-queue.js';
import { TransferIdGuard, type IdSegment } from './transfer-id-guard.js';
import type {
  Account,
  AccountResult,
  BackupResult,
  HistoryPage,
  LedgerInfo,
  LedgerOptions,
  SnapshotInfo,
  Transfer,
  TransferResult,
  VerifyResult,
} from './ledger-types.js';

function idOf(input: unknown): string {
  const id =
    typeof input === 'object' && input !== null ? (input as { id?: unknown }).id : undefined;
  if (typeof id === 'string') return id;
  // String() of an object calls its own toString, which may throw or be absent (a null prototype).
  return typeof id === 'object' || typeof id === 'function'
    ? Object.prototype.toString.call(id)
    : String(id);
}

/** What one createTransfers call sends to one shard: its same-shard transfers and the
 * reservations of its cross-shard ones, in input order. */
interface ShardBucket {
  readonly batch: CommandBatchBuilder;
  /** Per command: its input index (>= 0) for a local transfer, or -(slot + 1) for the
   * reservation of the saga in that SagaBatch slot (debit or credit by which shard this is). */
  readonly positions: number[];
  reservations: number;
}

/** The transfer a record stands for (a cross-shard hold's, to post or void it). */
function plainSpecOf(record: TransferRecord): TransferSpec {
  const { id, debitAccountId, creditAccountId, amount, currency, pending, timeoutMs, metadata } =
    record;
  return { id, debitAccountId, creditAccountId, amount, currency, pending, timeoutMs, metadata };
}

function publicTransfer(record: TransferRecord, crossShard: boolean): Transfer {
  const { sagaId: _sagaId, ...rest } = record;
  return { ...rest, crossShard };
}

/** One createTransfers segment, routed: a message per shard and the segment's sagas. */
class TransferRouting {
  readonly buckets: (ShardBucket | undefined)[];
  readonly sagas = new SagaBatch();
  readonly #capacity: number;

  constructor(shards: number, capacity: number) {
    this.buckets = new Array<ShardBucket | undefined>(shards);
    this.#capacity = capacity;
  }

  #bucketOf(shard: number): ShardBucket {
    let bucket = this.buckets[shard];
    if (bucket === undefined)
      this.buckets[shard] = bucket = {
        batch: new CommandBatchBuilder(this.#capacity),
        positions: [],
        reservations: 0,
      };
    return bucket;
  }

  /** A plain transfer between two accounts of `shard`, straight into its columns. */
  addPlain(shard: number, index: number, plain: PlainTransferFields): void {
    const bucket = this.#bucketOf(shard);
    bucket.batch.addPlainTransfer(
      plain.id,
      plain.debitAccountId as string,
      plain.creditAccountId as string,
      plain.currency,
      plain.amount,
    );
    bucket.positions.push(index);
  }

  /** Any valid transfer: a command on its shard, or a saga reserved on both of its shards (a
   * pending one stays reserved there: a cross-shard hold). */
  add(index: number, spec: TransferSpec, debitShard: number, creditShard: number): void {
    if (debitShard === creditShard) {
      const bucket = this.#bucketOf(debitShard);
      bucket.batch.add({ type: 'CreateTransfer', transfer: spec });
      bucket.positions.push(index);
    } else {
      const sagas = this.sagas;
      if (sagas.size === 0) failpoint(failpointNames.sagaReserveBefore);
      const slot = sagas.add(index, spec, debitShard, creditShard);
      this.#reserveIn(debitShard, slot);
      this.#reserveIn(creditShard, slot);
    }
  }

  #reserveIn(shard: number, slot: number): void {
    const bucket = this.#bucketOf(shard);
    bucket.batch.add(this.sagas.reserveOn(slot, shard));
    bucket.positions.push(-slot - 1);
    bucket.reservations += 1;
  }
}

/** A transfer id to look up on the shards that are not its home (Ledger.findElsewhere). */
interface HeldId {
  readonly id: string;
  readonly debitShard: number;
  readonly creditShard: number;
}

/** A write refuseTakenIds may refuse: its input index, id, home shards, whether its id was slow,
 * and its spec (null for a pending transfer's resolution, which one found elsewhere never
 * matches: its pending transfer lives on its home shard). */
interface CheckedTransfer extends HeldId {
  readonly index: number;
  readonly spec: TransferSpec | null;
  readonly slow: boolean;
}

export { backupIncompleteFileName } from './backup.js';

/** Creates the data dir (and its parents) when missing; a path that is a file, or one this
 * process may not create, is a typed error, never a raw Node one. */
async function makeDataDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? null;
    if (code === 'EEXIST' || code === 'ENOTDIR')
      throw new LedgerError('INVALID_ARGUMENT', {
        field: 'dir',
        dir,
        problem: 'a file, not a directory, is in the way',
      });
    throw new LedgerError('IO_ERROR', { dir, code, problem: String((error as Error).message) });
  }
}

export class Ledger {
  readonly dir: string;
  readonly shards: number;
  private readonly manifest: Manifest;
  private readonly partitions: PartitionMap;
  private readonly accountShards: AccountShardMemo;
  /** routeTransfer's output: the debit and credit shards of the transfer just routed. */
  private readonly routedShards = new Int32Array(2);
  /** readPlain's output: the fields of the plain transfer just read (one object reused by every
   * transfer: the hot path allocates nothing per transfer for it). */
  private readonly plainFields: PlainTransferFields = {
    id: '',
    debitAccountId: '',
    creditAccountId: '',
    currency: '',
    amount: 0,
  };
  private readonly clients: ShardClient[];
  private readonly lock: DirLock;
  private readonly sagas: SagaCoordinator;
  /** Keeps transfer ids unique across shards (transfer-id-guard.ts); null with one shard, where
   * the shard's own check covers every id, or with transferIdScope 'shard'. Set by open once
   * sagas are recovered. */
  private transferIds: TransferIdGuard | null = null;
  private readonly options: LedgerOptions;
  private recovery = { sagasCommitted: 0, sagasReleased: 0 };
  private closed = false;

  private constructor(
    options: LedgerOptions,
    manifest: Manifest,
    clients: ShardClient[],
    lock: DirLock,
  ) {
    this.options = options;
    this.dir = options.dir;
    this.manifest = manifest;
    this.shards = manifest.shards;
    this.partitions = new PartitionMap({
      shards: manifest.shards,
      partitionMap: manifest.partitionMap,
    });
    this.accountShards = new AccountShardMemo({ partitions: this.partitions });
    this.clients = clients;
    this.lock = lock;
    const partitions = this.partitions;
    this.sagas = new SagaCoordinator({
      clients,
      shardOf: (accountId) => partitions.shardOf(accountId),
      stepTimeoutMs: options.sagaStepTimeoutMs ?? limits.sagaStepTimeoutMs,
    });
  }

  /** Opens (or creates) a ledger. Resolves once every shard recovered from its log and every
   * saga interrupted by a crash was finished or rolled back. */
  static async open(options: LedgerOptions): Promise<Ledger> {
    checkLedgerOptions(options);
    // A missing dir is created (LedgerOptions.dir); the lock lives inside it.
    await refuseForeignDir(options.dir);
    await makeDataDir(options.dir);
    const lock = await acquireDirLock(options.dir);
    try {
      const existing = await readManifest(options.dir);
      const shards =
        options.shards ??
        existing?.shards ??
        Math.min(availableParallelism(), limits.shardCountMax);
      const { manifest, shardDirs, creating } = await openOrCreateManifest({
        dir: options.dir,
        shards,
      });
      // What each shard must be (shard-identity.ts): checked by its worker before it opens.
      const identity = {
        ledgerId: ledgerIdentity(manifest),
        partitionMapDigest: partitionMapDigest(manifest),
        create: creating,
        shards: manifest.shards,
        partitionMap: manifest.partitionMap,
      };
      const engine = {
        durability: options.durability ?? 'strict',
        ...(options.snapshotIntervalEvents !== undefined
          ? { snapshotIntervalEvents: options.snapshotIntervalEvents }
          : {}),
        ...(options.snapshotIntervalMs !== undefined
          ? { snapshotIntervalMs: options.snapshotIntervalMs }
          : {}),
        ...(options.accountHistory !== undefined ? { accountHistory: options.accountHistory } : {}),
      };
      const opened = await Promise.allSettled(
        shardDirs.map((dir, shard) =>
          ShardClient.open({
            shard,
            dir,
            engine: { ...engine, identity: { ...identity, shard } },
            ...(options.failpoints !== undefined ? { failpoints: options.failpoints } : {}),
          }),
        ),
      );
      const clients = opened.flatMap((result) =>
        result.status === 'fulfilled' ? [result.value] : [],
      );
      try {
        const failed = opened.find(
          (result): result is PromiseRejectedResult => result.status === 'rejected',
        );
        if (failed !== undefined) throw failed.reason;
        if (creating) await finishCreation(options.dir);
        const ledger = new Ledger(options, manifest, clients, lock);
        const recovered = await ledger.sagas.recoverAll();
        ledger.recovery = {
          sagasCommitted: recovered.committed,
          sagasReleased: recovered.released,
        };
        if (clients.length > 1 && options.transferIdScope !== 'shard')
          ledger.transferIds = new TransferIdGuard(
            (await Promise.all(clients.map((client) => client.info()))).map(
              (info) => info.transferIdMax,
            ),
          );
        return ledger;
      } catch (error) {
        // The shards that did open are closed before the lock goes: no worker of this failed
        // open may outlive it and write beside the next owner of the dir.
        await Promise.allSettled(clients.map((client) => client.close()));
        throw error;
      }
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  private ensureOpen(): void {
    if (this.closed) throw new LedgerError('LEDGER_CLOSED');
  }

  /** The shard that owns an account (stable for the life of the data dir). */
  shardOf(accountId: string): number {
    checkAccountId(accountId);
    return this.partitions.shardOf(accountId);
  }

  /** The shard's client (tests and the CLI: failpoints, restart events). */
  shardClient(shard: number): ShardClient {
    checkShardIndex(shard, this.shards);
    const client = this.clients[shard];
    if (client === undefined) throw new LedgerError('INVALID_ARGUMENT', { shard });
    return client;
  }

  /** Sends commands to their shards (coalesced per shard) and returns statuses in input order. */
  private async route(
    commands: ({ shard: number; command: Command } | null)[],
    fallback: CommandStatus[],
  ): Promise<CommandStatus[]> {
    const perShard = new Map<number, { commands: Command[]; positions: number[] }>();
    commands.forEach((entry, position) => {
      if (entry === null) return;
      let bucket = perShard.get(entry.shard);
      if (bucket === undefined)
        perShard.set(entry.shard, (bucket = { commands: [], positions: [] }));
      bucket.commands.push(entry.command);
      bucket.positions.push(position);
    });
    const statuses = fallback.slice();
    await Promise.all(
      [...perShard].map(async ([shard, bucket]) => {
        const results = await this.shardClient(shard).submit(bucket.commands);
        results.forEach((result, index) => {
          statuses[bucket.positions[index] as number] = result.status;
        });
      }),
    );
    return statuses;
  }

  async createAccounts(accounts: readonly AccountInput[]): Promise<AccountResult[]> {
    this.ensureOpen();
    checkBatch(accounts, 'accounts');
    const statuses: CommandStatus[] = [];
    const commands = accounts.map((input, index) => {
      const parsed = parseAccount(input);
      if (!parsed.ok) {
        statuses[index] = statusOf(parsed.code);
        return null;
      }
      statuses[index] = 'ok';
      return {
        shard: this.shardOf(parsed.value.id),
        command: { type: 'CreateAccount', account: parsed.value } as Command,
      };
    });
    const routed = await this.route(commands, statuses);
    return accounts.map((input, index) => ({
      id: idOf(input),
      status: routed[index] as CommandStatus,
    }));
  }

  /** Creates transfers; one result per input, in order. Every command reaches each shard in input
   * order: transfers between accounts of one shard are applied in that order, and a cross-shard
   * transfer is reserved on its shards in that order too. Its credit becomes spendable when the
   * saga commits, so a later transfer of the same call spending it may see it still reserved.
   * A transfer id is unique across the ledger, whatever shards its accounts live on
   * (transfer-id-guard.ts). */
  async createTransfers(transfers: readonly TransferInput[]): Promise<TransferResult[]> {
    this.ensureOpen();
    checkBatch(transfers, 'transfers');
    const count = transfers.length;
    const statuses = new Array<CommandStatus>(count);
    const guard = this.transferIds;
    // The call goes out in segments (transfer-id-guard.ts): all of it in one, unless an id may
    // repeat one sent earlier in the call to other shards (it starts the next segment), or an id
    // turns out to be taken on another shard (then that range goes again, checked one by one).
    let start = 0;
    let checkedEnd = -1;
    while (start < count) {
      const segment = guard?.begin() ?? null;
      try {
        if (segment !== null && checkedEnd > start) {
          start = await this.sendChecked(transfers, start, checkedEnd, statuses, segment);
        } else {
          const next = await this.sendRouted(transfers, start, statuses, segment);
          if (next < 0) checkedEnd = -next - 1;
          else start = next;
        }
      } finally {
        if (segment !== null) guard?.end(segment);
      }
    }
    const results = new Array<TransferResult>(count);
    for (let index = 0; index < count; index += 1) {
      results[index] = { id: idOf(transfers[index]), status: statuses[index] as CommandStatus };
    }
    return results;
  }

  /** Routes transfers from `start` and sends them; returns the index it stopped at: the end, or an
   * id that may repeat one routed earlier in this segment to other shards. The hot path: an id
   * above every one before costs one comparison; any other (slow) id is held (holdSlow) and, before
   * anything is sent, looked up on the shards that are not its home. When one is taken there,
   * nothing is sent and it returns -(end + 1): the caller sends start .. end again, checked
   * (sendChecked), which gives each transfer its status. */
  private async sendRouted(
    transfers: readonly TransferInput[],
    start: number,
    statuses: CommandStatus[],
    segment: IdSegment | null,
  ): Promise<number> {
    const count = transfers.length;
    const routing = new TransferRouting(this.shards, count - start);
    const shardsOf = this.routedShards;
    const plain = this.plainFields;
    // Fast ids are compared here, inline, and the guard advanced once (TransferIdGuard.advance).
    const first = segment === null ? '' : (this.transferIds as TransferIdGuard).greatest;
    let greatest = first;
    /** Each slow id held, with its home shards. */
    let held: Map<string, HeldId> | null = null;
    let index = start;
    for (; index < count; index += 1) {
      const input = transfers[index];
      let spec: TransferSpec | Rejected;
      if (this.readPlain(input, shardsOf)) {
        if (segment !== null) {
          if (greatest !== null && plain.id > greatest) greatest = plain.id;
          else if (!this.holdSlow(segment, plain.id, first, greatest, (held ??= new Map()))) break;
        }
        if (shardsOf[0] === shardsOf[1]) {
          // The hot path: no spec or command object, straight into the shard's columns.
          routing.addPlain(shardsOf[0] as number, index, plain);
          continue;
        }
        spec = plainTransferSpec(plain);
      } else {
        spec = this.routeTransfer(input, shardsOf);
        if (isRejected(spec)) {
          statuses[index] = statusOf(spec.code);
          continue;
        }
        if (segment !== null) {
          if (greatest !== null && spec.id > greatest) greatest = spec.id;
          else if (!this.holdSlow(segment, spec.id, first, greatest, (held ??= new Map()))) break;
        }
      }
      routing.add(index, spec, shardsOf[0] as number, shardsOf[1] as number);
    }
    if (segment !== null && greatest !== first)
      (this.transferIds as TransferIdGuard).advance(segment, greatest as string);
    if (
      held !== null &&
      (await this.findElsewhere(segment as IdSegment, [...held.values()])).some(
        (record) => record !== undefined,
      )
    )
      return -index - 1;
    await this.sendRouting(routing, statuses, segment);
    return index;
  }

  /** A slow id met by sendRouted, for the transfer just routed (its shards in routedShards): false
   * when the segment must end before it, because it may repeat an id routed earlier in this
   * segment to other shards (a fast one: in (first, greatest]; or a slow one with another home),
   * so that the next segment checks it against what this one wrote, as one shard would; else
   * true, with the id held: marked slow, its home noted in `held`. */
  private holdSlow(
    segment: IdSegment,
    id: string,
    first: string | null,
    greatest: string | null,
    held: Map<string, HeldId>,
  ): boolean {
    if (first !== null && greatest !== null && first < id && id <= greatest) return false;
    const debitShard = this.routedShards[0] as number;
    const creditShard = this.routedShards[1] as number;
    const earlier = held.get(id);
    if (earlier !== undefined)
      return earlier.debitShard === debitShard && earlier.creditShard === creditShard;
    held.set(id, { id, debitShard, creditShard });
    (this.transferIds as TransferIdGuard).markSlow(segment, id);
    return true;
  }

  /** Routes transfers `start` .. `end` - 1, refuses those whose id is taken on a shard outside
   * their home (refuseTakenIds), and sends the others; returns the index it stopped at: `end`, or
   * an id met earlier in this segment with other home shards (it goes in the next segment, so
   * that the lookup sees what the first one wrote, as one shard would). */
  private async sendChecked(
    transfers: readonly TransferInput[],
    start: number,
    end: number,
    statuses: CommandStatus[],
    segment: IdSegment,
  ): Promise<number> {
    const guard = this.transferIds as TransferIdGuard;
    const shardsOf = this.routedShards;
    const plain = this.plainFields;
    const routed: CheckedTransfer[] = [];
    const homeOf = new Map<string, number>();
    let index = start;
    for (; index < end; index += 1) {
      const input = transfers[index];
      let spec: TransferSpec | Rejected;
      if (this.readPlain(input, shardsOf)) {
        spec = plainTransferSpec(plain);
      } else {
        spec = this.routeTransfer(input, shardsOf);
        if (isRejected(spec)) {
          statuses[index] = statusOf(spec.code);
          continue;
        }
      }
      const debitShard = shardsOf[0] as number;
      const creditShard = shardsOf[1] as number;
      const home = debitShard * limits.shardCountMax + creditShard;
      const earlier = homeOf.get(spec.id);
      if (earlier !== undefined && earlier !== home) break;
      homeOf.set(spec.id, home);
      routed.push({
        index,
        id: spec.id,
        spec,
        debitShard,
        creditShard,
        slow: guard.take(segment, spec.id),
      });
    }
    await this.refuseTakenIds(segment, routed, statuses);
    const routing = new TransferRouting(this.shards, routed.length);
    for (const entry of routed) {
      if (statuses[entry.index] === undefined)
        routing.add(entry.index, entry.spec as TransferSpec, entry.debitShard, entry.creditShard);
    }
    await this.sendRouting(routing, statuses, segment);
    return index;
  }

  /** Gives each slow transfer of `routed` whose id is live on a shard outside its home shards the
   * status its home would give (exists, exists_with_different_fields, or transfer_in_flight while
   * that transfer's saga runs), so that it is not sent. */
  private async refuseTakenIds(
    segment: IdSegment,
    routed: readonly CheckedTransfer[],
    statuses: (CommandStatus | undefined)[],
  ): Promise<void> {
    const slow = routed.filter((entry) => entry.slow);
    const found = await this.findElsewhere(segment, slow);
    slow.forEach((entry, position) => {
      const record = found[position];
      if (record === undefined || statuses[entry.index] !== undefined) return;
      const same = entry.spec !== null && sameTransfer(record, entry.spec);
      statuses[entry.index] =
        record.state === 'reserved'
          ? 'transfer_in_flight'
          : same
            ? 'exists'
            : 'exists_with_different_fields';
    });
  }

  /** For each of `held`, the first live record of its id on a shard that is not its home (the
   * lowest such shard), or undefined. Each shard is asked only for the ids it is not home to: a
   * home shard checks the id itself when the transfer reaches it. Waits first for the segments
   * that may be writing those ids to queue their writes, and looks up behind them; with none,
   * ahead of every write in flight (none can hold them). */
  private async findElsewhere(
    segment: IdSegment,
    held: readonly HeldId[],
  ): Promise<(TransferRecord | undefined)[]> {
    if (held.length === 0) return [];
    const behind = await (this.transferIds as TransferIdGuard).writesQueuedBefore(segment);
    const asked = this.clients.map(() => ({ ids: [] as string[], positions: [] as number[] }));
    held.forEach((entry, position) => {
      asked.forEach((list, shard) => {
        if (shard === entry.debitShard || shard === entry.creditShard) return;
        list.ids.push(entry.id);
        list.positions.push(position);
      });
    });
    const found = new Array<TransferRecord | undefined>(held.length).fill(undefined);
    const answers = await Promise.all(
      this.clients.map((client, shard) => {
        const { ids } = asked[shard] as { ids: string[] };
        if (ids.length === 0) return [];
        return behind ? client.lookupTransfersBehindWrites(ids) : client.lookupTransfersAhead(ids);
      }),
    );
    answers.forEach((records, shard) => {
      const { positions } = asked[shard] as { positions: number[] };
      records.forEach((record, index) => {
        const position = positions[index] as number;
        // A released saga side frees its id, as it does on its own shard (decide.ts liveRecord).
        if (record !== undefined && record.state !== 'released' && found[position] === undefined)
          found[position] = record;
      });
    });
    return found;
  }

  /** Sends one message per shard, runs the sagas, and writes every status; throws when a shard
   * failed with same-shard transfers in its message (they are in doubt: a retry is safe). */
  private async sendRouting(
    routing: TransferRouting,
    statuses: CommandStatus[],
    segment: IdSegment | null,
  ): Promise<void> {
    const { buckets, sagas } = routing;
    let localError: unknown;
    const sends: Promise<void>[] = [];
    for (let shard = 0; shard < buckets.length; shard += 1) {
      const bucket = buckets[shard];
      if (bucket === undefined) continue;
      // Only the positions outlive the call: the batch is the client's until it encodes it.
      const positions = bucket.positions;
      const reservations = bucket.reservations;
      sends.push(
        this.shardClient(shard)
          .submitBatch(bucket.batch)
          .then(
            (results: SubmitResults) => {
              assert(results.count === positions.length, 'one result per command');
              const { view, start } = results;
              for (let index = 0; index < positions.length; index += 1) {
                const position = positions[index] as number;
                if (position >= 0) {
                  statuses[position] = view.status(start + index);
                  continue;
                }
                sagas.answer(-position - 1, shard, view.result(start + index));
              }
            },
            (error: unknown) => {
              // Reservations are re-sent on their own by finishBatch; local transfers are left in
              // doubt, so the call fails (a retry with the same ids is safe).
              if (reservations > 0) sagas.failed.set(shard, error);
              if (reservations < positions.length && localError === undefined) localError = error;
            },
          ),
      );
    }
    // Every message of the segment is queued on its client: lookups sent from now on see them.
    segment?.markQueued();
    await Promise.all(sends);
    if (sagas.size > 0) {
      const sagaStatuses = await this.sagas.finishBatch(sagas);
      for (let slot = 0; slot < sagas.size; slot += 1)
        statuses[sagas.positions[slot] as number] = sagaStatuses[slot] as CommandStatus;
    }
    if (localError !== undefined) throw localError;
  }

  /** readPlainTransfer (validate.ts) with the account ids checked and routed by the memo:
   * true when `input` is a plain, valid transfer, whose fields are then in `plainFields` and its
   * shards in `shardsOf`. Each field of the input is read once. */
  private readPlain(input: unknown, shardsOf: Int32Array): boolean {
    const fields = this.plainFields;
    if (!readPlainTransfer(input, fields)) return false;
    // shardOfValid returns a shard only for a valid id (isValidId).
    const debitShard = this.accountShards.shardOfValid(fields.debitAccountId);
    if (debitShard < 0) return false;
    const creditShard = this.accountShards.shardOfValid(fields.creditAccountId);
    if (creditShard < 0) return false;
    shardsOf[0] = debitShard;
    shardsOf[1] = creditShard;
    return true;
  }

  /** Validates one transfer and, when valid, writes the shards of its debit and credit accounts
   * to `shardsOf[0]` and `shardsOf[1]` (the router's hot path: no allocation beyond the spec). A
   * repeated account id is validated and hashed once (AccountShardMemo). */
  private routeTransfer(input: unknown, shardsOf: Int32Array): TransferSpec | Rejected {
    let debitId: unknown;
    let creditId: unknown;
    if (typeof input === 'object' && input !== null) {
      debitId = (input as { readonly debitAccountId?: unknown }).debitAccountId;
      creditId = (input as { readonly creditAccountId?: unknown }).creditAccountId;
    }
    const debitShard = this.accountShards.shardOfValid(debitId);
    const creditShard = this.accountShards.shardOfValid(creditId);
    const spec = transferSpecOrRejection(input, debitShard >= 0 && creditShard >= 0);
    if (isRejected(spec)) return spec;
    if (spec.debitAccountId === debitId && spec.creditAccountId === creditId) {
      shardsOf[0] = debitShard;
      shardsOf[1] = creditShard;
      return spec;
    }
    // A getter returned other ids on its second read: validate and route what the spec holds.
    const checked = transferSpecOrRejection(input, false);
    if (isRejected(checked)) return checked;
    shardsOf[0] = this.partitions.shardOf(checked.debitAccountId);
    shardsOf[1] = this.partitions.shardOf(checked.creditAccountId);
    return checked;
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
    let statuses: CommandStatus[];
    if (invalid.some((status) => status !== null)) {
      statuses = invalid.map((status) => status ?? 'linked_transfer_failed');
    } else {
      const guard = this.transferIds;
      const segment = guard?.begin() ?? null;
      try {
        statuses = await this.sendGroup(specs, segment);
      } finally {
        if (segment !== null) guard?.end(segment);
      }
    }
    return transfers.map((input, index) => ({
      id: idOf(input),
      status: statuses[index] as CommandStatus,
    }));
  }

  /** createAtomicGroup once every member is valid: refused whole when a member's id is taken
   * (on a shard outside its home, or by an earlier member of a group spanning shards, which no one
   * shard sees whole), else run on its one shard or as a saga. */
  private async sendGroup(
    specs: readonly TransferSpec[],
    segment: IdSegment | null,
  ): Promise<CommandStatus[]> {
    const guard = this.transferIds;
    const routed: CheckedTransfer[] = specs.map((spec, index) => {
      const slow = segment !== null && (guard as TransferIdGuard).take(segment, spec.id);
      return {
        index,
        id: spec.id,
        spec,
        debitShard: this.shardOf(spec.debitAccountId),
        creditShard: this.shardOf(spec.creditAccountId),
        slow,
      };
    });
    const shards = new Set(routed.flatMap((entry) => [entry.debitShard, entry.creditShard]));
    if (segment !== null) {
      const taken = new Array<CommandStatus | undefined>(specs.length).fill(undefined);
      if (shards.size > 1) {
        const seen = new Set<string>();
        specs.forEach((spec, index) => {
          if (seen.has(spec.id)) taken[index] = 'duplicate_id_in_group';
          seen.add(spec.id);
        });
      }
      if (taken.every((status) => status === undefined))
        await this.refuseTakenIds(segment, routed, taken);
      if (taken.some((status) => status !== undefined))
        return taken.map((status) => status ?? 'linked_transfer_failed');
    }
    if (shards.size === 1) {
      const [result] = await this.shardClient([...shards][0] as number).submit([
        { type: 'CreateTransferGroup', transfers: specs },
      ]);
      assert(result !== undefined, 'one result');
      return specs.map((_, index) => result.statuses?.[index] ?? result.status);
    }
    if (specs.some((spec) => spec.pending))
      return specs.map((spec) =>
        spec.pending ? 'cross_shard_pending_unsupported' : 'linked_transfer_failed',
      );
    return this.sagas.run(specs);
  }

  /** Where each pending transfer lives: the shard that resolves it (for a cross-shard hold, its
   * debit shard, which decides) and its record. */
  private async locatePending(
    pendingIds: readonly string[],
  ): Promise<({ shard: number; record: TransferRecord } | undefined)[]> {
    const found = await Promise.all(
      this.clients.map((client) => client.lookupTransfers(pendingIds)),
    );
    return pendingIds.map((_, index) => {
      for (let shard = 0; shard < found.length; shard += 1) {
        const record = found[shard]?.[index];
        if (record === undefined) continue;
        const debitShard = this.shardOf(record.debitAccountId);
        if (record.sagaId !== null && debitShard !== shard) continue;
        return { shard: record.sagaId !== null ? debitShard : shard, record };
      }
      return undefined;
    });
  }

  private async resolvePending(
    inputs: readonly (PostPendingInput | VoidPendingInput)[],
    action: 'post' | 'void',
  ): Promise<TransferResult[]> {
    this.ensureOpen();
    checkBatch(inputs, 'inputs');
    const statuses: CommandStatus[] = new Array<CommandStatus>(inputs.length);
    const parsed = inputs.map((input) => parseResolution(input, action === 'post'));
    const pendingIds = parsed.map((entry) => (entry.ok ? entry.value.pendingId : ''));
    const located = await this.locatePending(pendingIds);
    /** Inputs that resolve a cross-shard hold, by position: its saga runs the two steps. */
    const holds = new Map<
      number,
      { sagaId: string; transfer: TransferSpec; debitShard: number; creditShard: number }
    >();
    const commands = parsed.map((entry, index) => {
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
      if (record.sagaId !== null && record.kind === 'transfer' && record.pending) {
        holds.set(index, {
          sagaId: record.sagaId,
          transfer: plainSpecOf(record),
          debitShard: shard,
          creditShard: this.shardOf(record.creditAccountId),
        });
      }
      const type = action === 'post' ? 'PostPendingTransfer' : 'VoidPendingTransfer';
      return { shard, command: { type, resolution: entry.value } as Command };
    });
    const guard = this.transferIds;
    const segment = guard?.begin() ?? null;
    try {
      if (segment !== null) {
        // The resolutions' own ids are transfer ids too: a taken one is refused (its home is the
        // pending transfer's shard).
        const checked: CheckedTransfer[] = [];
        commands.forEach((entry, index) => {
          if (entry === null) return;
          const id = (entry.command as { resolution: { id: string } }).resolution.id;
          checked.push({
            index,
            id,
            spec: null,
            debitShard: entry.shard,
            creditShard: entry.shard,
            slow: (guard as TransferIdGuard).take(segment, id),
          });
        });
        await this.refuseTakenIds(segment, checked, statuses);
        for (const entry of checked)
          if (statuses[entry.index] !== undefined) commands[entry.index] = null;
      }
      // Cross-shard holds: each through its saga's two steps; the rest routed as usual.
      const holdResults = new Map<number, Promise<CommandStatus>>();
      for (const [index, hold] of holds) {
        const entry = commands[index];
        if (entry === null || entry === undefined) continue;
        holdResults.set(
          index,
          this.sagas.resolveHold(
            hold,
            (entry.command as { resolution: PendingResolutionSpec }).resolution,
            action,
          ),
        );
        commands[index] = null;
      }
      const routed = await this.route(commands, statuses);
      for (const [index, result] of holdResults) routed[index] = await result;
      return inputs.map((input, index) => ({
        id: idOf(input),
        status: routed[index] as CommandStatus,
      }));
    } finally {
      if (segment !== null) guard?.end(segment);
    }
  }

  /** Two-phase: posts pending transfers (the full amount, or a smaller `amount`). */
  postPendingTransfers(inputs: readonly PostPendingInput[]): Promise<TransferResult[]> {
    return this.resolvePending(inputs, 'post');
  }

  /** Two-phase: voids pending transfers, releasing the held amount. */
  voidPendingTransfers(inputs: readonly VoidPendingInput[]): Promise<TransferResult[]> {
    return this.resolvePending(inputs, 'void');
  }

  async lookupAccounts(ids: readonly string[]): Promise<(Account | undefined)[]> {
    this.ensureOpen();
    const checked = checkIdList(ids, 'ids');
    const found: (Account | undefined)[] = new Array(ids.length).fill(undefined);
    const perShard = new Map<number, number[]>();
    checked.forEach((id, index) => {
      if (id === null) return;
      const shard = this.shardOf(id);
      const list = perShard.get(shard) ?? [];
      list.push(index);
      perShard.set(shard, list);
    });
    await Promise.all(
      [...perShard].map(async ([shard, positions]) => {
        const accounts = await this.shardClient(shard).lookupAccounts(
          positions.map((index) => checked[index] as string),
        );
        positions.forEach((position, index) => {
          found[position] = accounts[index];
        });
      }),
    );
    return found;
  }

  /** Looks transfers up on every shard (an id is not routed by itself). A cross-shard transfer is
   * recorded on both of its shards; the debit shard's record is returned. */
  async lookupTransfers(ids: readonly string[]): Promise<(Transfer | undefined)[]> {
    this.ensureOpen();
    const checked = checkIdList(ids, 'ids');
    // Only valid ids are asked for: no other string can name a stored transfer.
    const asked = checked.filter((id): id is string => id !== null);
    const answers = await Promise.all(this.clients.map((client) => client.lookupTransfers(asked)));
    let next = 0;
    const positions = checked.map((id) => (id !== null ? next++ : -1));
    return checked.map((_, index) => {
      const at = positions[index] as number;
      if (at < 0) return undefined;
      for (const records of answers) {
        const record = records[at];
        if (record === undefined) continue;
        const crossShard =
          this.shardOf(record.debitAccountId) !== this.shardOf(record.creditAccountId);
        if (crossShard && this.shardOf(record.debitAccountId) !== answers.indexOf(records))
          continue;
        return publicTransfer(record, crossShard);
      }
      return undefined;
    });
  }

  /** Postings of one account in time order, paginated by sequence number (of its shard). */
  async accountHistory(
    accountId: string,
    options: { afterSequence?: number; limit?: number } = {},
  ): Promise<HistoryPage> {
    this.ensureOpen();
    checkAccountId(accountId);
    return this.shardClient(this.shardOf(accountId)).accountHistory(
      accountId,
      checkHistoryOptions(options),
    );
  }

  /** The account's balances as of a past timestamp (ns) or sequence number of its shard. */
  async balanceAsOf(
    accountId: string,
    at: { sequence?: number; timestamp?: bigint },
  ): Promise<Account | undefined> {
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
    await this.sagas.settle();
    const violations: VerifyResult['violations'][number][] = [];
    let eventsReplayed = 0;
    const reports = await Promise.all(this.clients.map((client) => client.verify()));
    reports.forEach((report, shard) => {
      eventsReplayed += report.eventsReplayed;
      for (const violation of report.violations) violations.push({ ...violation, shard });
    });
    const infos = await Promise.all(this.clients.map((client) => client.info()));
    const sums = new Map<string, bigint[]>();
    infos.forEach((info, shard) => {
      if (info.reservationsOpen > 0) {
        violations.push({
          rule: 'no_open_reservations',
          detail: `${info.reservationsOpen} open`,
          shard,
        });
      }
      for (const totals of info.totals) {
        const sum = sums.get(totals.currency) ?? [0n, 0n, 0n, 0n];
        sum[0] = (sum[0] as bigint) + totals.debitsPosted;
        sum[1] = (sum[1] as bigint) + totals.creditsPosted;
        sum[2] = (sum[2] as bigint) + totals.debitsPending;
        sum[3] = (sum[3] as bigint) + totals.creditsPending;
        sums.set(totals.currency, sum);
      }
    });
    // A cross-shard hold is open on each of its shards, or on none.
    const holds = new Map<string, { participants: readonly number[]; on: number[] }>();
    const openPerShard = await Promise.all(this.clients.map((client) => client.openReservations()));
    openPerShard.forEach((open, shard) => {
      for (const reservation of open) {
        let hold = holds.get(reservation.sagaId);
        if (hold === undefined)
          holds.set(
            reservation.sagaId,
            (hold = { participants: reservation.participants, on: [] }),
          );
        hold.on.push(shard);
      }
    });
    for (const [sagaId, hold] of holds) {
      if (hold.on.length !== hold.participants.length) {
        violations.push({
          rule: 'holds_open_on_every_shard',
          detail: `${sagaId}: open on shards ${hold.on.join(',')} of ${hold.participants.join(',')}`,
          shard: null,
        });
      }
    }
    for (const [currency, [debits, credits, debitsPending, creditsPending]] of sums) {
      if (debits !== credits) {
        violations.push({
          rule: 'debits_equal_credits',
          detail: `${currency}: debits ${debits}, credits ${credits}`,
          shard: null,
        });
      }
      if (debitsPending !== creditsPending) {
        violations.push({
          rule: 'pending_debits_equal_pending_credits',
          detail: `${currency}: ${debitsPending} vs ${creditsPending}`,
          shard: null,
        });
      }
    }
    return { ok: violations.length === 0, violations, eventsReplayed };
  }

  /** Takes a snapshot of every shard now. */
  snapshot(): Promise<SnapshotInfo[]> {
    this.ensureOpen();
    return Promise.all(this.clients.map((client) => client.snapshot()));
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
    return backupLedger({ dir: this.dir, clients: this.clients }, target);
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
      shardInfo: await Promise.all(this.clients.map((client) => client.info())),
      recovery: this.recovery,
    };
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

  /** Waits for sagas in doubt to settle, closes every shard and releases the dir lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sagas.stop();
    await this.sagas.settle().catch(() => undefined);
    await Promise.allSettled(this.clients.map((client) => client.close()));
    await this.lock.release();
  }
}
