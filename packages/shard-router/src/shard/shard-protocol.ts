// The messages between a ShardClient (main thread) and its shard worker. Every message is one
// msgpackr-encoded ArrayBuffer, transferred (moved, not copied) with postMessage. Measured on the
// 2-core dev machine with 8,190 CreateTransfer commands and 8,190 results back: 15-17 ms round
// trip with msgpackr + transfer against 36-37 ms with structured clone.

import type { ReplicationSettings } from '../replication/replication-options.js';
import { Packr } from 'msgpackr';
import type {
  AccountView,
  Durability,
  EngineInfo,
  HistoryOptions,
  HistoryPage,
  ReservationState,
  SagaOutcome,
  SequencedEvent,
  SnapshotInfo,
  BackupInfo,
  TransferRecord,
  VerifyReport,
} from '@shardledger/ledger-core';
import type { ShardIdentityExpectation, WireError } from '@shardledger/ledger-core/internals';
import type { FailpointOptions } from '../failpoints.js';

/** What the worker runs, by op name: the arguments and the answer of each, exactly as they cross
 * the thread boundary. The worker implements it on top of ShardEngine; ShardClient exposes one
 * method per op. */
export interface ShardOps {
  /** A command batch in its wire form (batch-codec.ts CommandBatchBuilder.encode), answered with
   * its result batch in wire form (ResultBatchView reads it): commands travel columnar, not as
   * thousands of msgpackr objects. */
  submit(batch: Uint8Array): Uint8Array;
  lookupAccounts(ids: readonly string[]): (AccountView | undefined)[];
  lookupTransfers(ids: readonly string[]): (TransferRecord | undefined)[];
  /** 1 at the index of each id that names an open pending transfer of the shard, else 0. */
  openHolds(ids: readonly string[]): Uint8Array;
  /** A page of the shard's accounts in id order from its account index (AccountOrder): up to
   * `limit` after the id `after` (null: from the first), only `currency`'s when not null. */
  listAccounts(after: string | null, limit: number, currency: string | null): AccountView[];
  sagaOutcome(sagaId: string): SagaOutcome | undefined;
  reservation(sagaId: string): ReservationState | undefined;
  openReservations(): ReservationState[];
  accountHistory(accountId: string, options?: HistoryOptions): HistoryPage;
  balanceAsOf(
    accountId: string,
    at: { sequence?: number; timestamp?: bigint },
  ): AccountView | undefined;
  readEvents(afterSequence: number, limit: number): SequencedEvent[];
  /** Raw log records (decoded by the caller, off the shard's thread). */
  readRecords(afterSequence: number, limitEvents: number): Uint8Array[];
  /** The shard's last sequence and, when it is past `afterSequence`, the raw records holding
   * events afterSequence+1 .. min(lastSequence, afterSequence+limitEvents) at least (the read
   * model ships them to its worker undecoded). Nothing is read when there is nothing new. */
  readNewRecords(afterSequence: number, limitEvents: number): NewRecords;
  /** The last sequence whose event is at or before `timestamp` (0 if none). */
  sequenceAt(timestamp: bigint): number;
  /** The digest of the log record a snapshot at `sequence` is bound to, or null. */
  logDigestAt(sequence: number): Uint8Array | null;
  verify(): VerifyReport;
  snapshot(): SnapshotInfo;
  /** Opens the shard's backup cut (ShardEngine.beginBackup) and answers with its sequence; the
   * copy goes on in the worker until backupDone. */
  backupCut(dir: string): { sequence: number };
  /** Waits for the copy that backupCut began into `dir`. */
  backupDone(dir: string): BackupInfo;
  info(): EngineInfo;
  /** A copy of the filter of the transfer ids the shard knows (ShardEngine.transferIdFilter),
   * each layer's words as their bytes (msgpackr does not carry a Uint32Array as such). */
  transferIdFilter(): {
    readonly layers: Uint8Array[];
    readonly capacities: readonly number[];
    readonly counts: readonly number[];
  };
  close(): null;
  armFailpoint(name: string, options: FailpointOptions): null;
  disarmFailpoints(): null;
}

/** What readNewRecords answers. */
export interface NewRecords {
  readonly lastSequence: number;
  readonly records: Uint8Array[];
}

export type ShardOp = keyof ShardOps;
export type ShardOpArgs<Op extends ShardOp> = Parameters<ShardOps[Op]>;
export type ShardOpResult<Op extends ShardOp> = ReturnType<ShardOps[Op]>;

export interface ShardRequest<Op extends ShardOp = ShardOp> {
  /** Positive, unique per client generation; the reply carries it back. */
  readonly id: number;
  readonly op: Op;
  readonly args: ShardOpArgs<Op>;
  /** A lookupTransfers the worker runs on arrival, ahead of the requests queued before it: it
   * sees every write applied so far, none of those still queued. Only for a caller that knows
   * none of those can matter (ShardClient.lookupTransfersAhead). */
  readonly ahead?: true;
}

export type ShardReply<Op extends ShardOp = ShardOp> =
  | { readonly id: number; readonly ok: true; readonly value: ShardOpResult<Op> }
  | { readonly id: number; readonly ok: false; readonly error: WireError };

/** Sent once by the worker, unsolicited, with id 0: the engine opened (recovered), or not. */
export type ShardReadyMessage =
  | { readonly id: 0; readonly ok: true; readonly value: { readonly info: EngineInfo } }
  | { readonly id: 0; readonly ok: false; readonly error: WireError };

/** Engine options that can cross a thread (no clock function). */
export interface ShardEngineWireOptions {
  readonly durability?: Durability;
  readonly snapshotIntervalEvents?: number;
  readonly snapshotIntervalMs?: number;
  readonly accountHistory?: boolean;
  readonly mapSizeBytes?: number;
  /** The shard's expected identity; the worker adds the account router built from the map. */
  readonly identity?: ShardIdentityWire;
  /** `replicated` durability: the cluster and names (replication/replication-options.ts). */
  readonly replication?: ReplicationSettings;
}

/** ShardIdentityExpectation as it crosses to the worker: the partition map instead of a
 * function. */
export interface ShardIdentityWire extends Omit<ShardIdentityExpectation, 'accountHome'> {
  readonly shards: number;
  readonly partitionMap: readonly number[];
}

export interface ShardWorkerData {
  readonly shard: number;
  readonly dir: string;
  readonly engine: ShardEngineWireOptions;
  /** 0 for the first worker of a client, +1 per restart. */
  readonly generation: number;
  /** Failpoints to arm before the engine opens ("name=action@N,..."), e.g. to stop recovery. */
  readonly failpoints?: string;
}

/** One Packr per thread. No shared `structures`: each message carries its own record
 * definitions, so the two threads' Packrs need no shared state. useBigIntExtension keeps bigints
 * above 64 bits (amounts go up to 2^128-1) instead of throwing. */
export function createPackr(): Packr {
  return new Packr({ useRecords: true, useBigIntExtension: true });
}

/** Encodes `message` into a fresh ArrayBuffer that the caller may transfer. msgpackr packs into a
 * reused internal buffer, so the bytes are copied out first: transferring that internal buffer
 * would detach it under msgpackr. The copy is a memcpy, ~50 us for 8,190 transfers. */
export function encodeMessage(packr: Packr, message: unknown): ArrayBuffer {
  const bytes = packr.pack(message);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

export function decodeMessage(packr: Packr, buffer: ArrayBuffer): unknown {
  return packr.unpack(new Uint8Array(buffer));
}
