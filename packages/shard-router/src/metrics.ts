// Ledger.metrics(): one snapshot of the figures an operator watches, read from what the ledger
// already keeps (the tallies of metrics-tally.ts, each shard client's queue and restart count,
// each shard's info()). `shardledger info` prints it and the OpenTelemetry instruments
// (metrics-otel.ts) report it, so the two always agree.

import type { EngineInfo } from '@shardledger/ledger-core';
import type { ShardLag } from './read-model/shard-lag.js';
import { LedgerTelemetry, type WriteOperation } from './metrics-otel.js';
import { TransferTally, type SagaCounts, type TransferCounts } from './metrics-tally.js';
import { ledgerIdentity, type Manifest } from './manifest.js';
import type { RouterParts } from './router-parts.js';
import type { ShardClient } from './shard/shard-client.js';

/** LMDB map size of every shard's log: address space reserved, not disk used (the file grows
 * as pages are used). The router passes it to each shard so the figure it reports is the one in
 * force; 64 GiB is room for hundreds of millions of events. */
export const mapSizeBytesDefault = 64 * 1024 ** 3;

/** One shard's figures. Counts are since the Ledger opened; the rest are read now. */
export interface ShardMetrics {
  readonly shard: number;
  /** Write messages sent to the shard; its worker applies each one as one group commit. */
  readonly commits: number;
  /** Times the shard's worker died and was replaced. */
  readonly restarts: number;
  /** Commands queued for the shard or in flight to it. */
  readonly queueDepth: number;
  /** Cross-shard sagas with a reservation open on this shard (not finished yet). */
  readonly sagasOpen: number;
  /** Cross-shard holds (pending transfers) open on this shard. */
  readonly holdsOpen: number;
  /** Events in the log after the newest snapshot: what a restart replays. */
  readonly eventsSinceSnapshot: number;
  /** Seconds since the newest event the newest snapshot holds was written; null without a
   * snapshot. */
  readonly snapshotAgeSeconds: number | null;
  /** Bytes of the LMDB map in use: the size of the shard's log file. */
  readonly mapUsedBytes: number;
  /** The LMDB map size: the most the log file may grow to. */
  readonly mapSizeBytes: number;
}

/** What Ledger.metrics() returns. */
export interface LedgerMetrics {
  /** Transfer results since the Ledger opened (createTransfers, createAtomicGroup,
   * postPendingTransfers, voidPendingTransfers), by outcome. */
  readonly transfers: TransferCounts;
  /** Cross-shard sagas finished since the Ledger opened, by outcome. */
  readonly sagas: SagaCounts;
  readonly shards: readonly ShardMetrics[];
  /** How far each tracked read model is behind, per shard (Ledger.trackReadModel); empty when
   * none is tracked. */
  readonly readModels: readonly ReadModelLag[];
}

/** A read model whose lag the metrics report: a ReadModel, or anything with its path and lag. */
export interface LagSource {
  readonly path: string;
  lag(): Promise<ShardLag[]>;
}

export interface ReadModelLag {
  /** The read model's file. */
  readonly path: string;
  readonly shards: readonly ShardLag[];
}

/** What the snapshot is read from: the ledger's parts and tallies. */
export interface MetricsSource {
  readonly clients: readonly ShardClient[];
  readonly transfers: TransferCounts;
  readonly sagas: SagaCounts;
  readonly mapSizeBytes: number;
  readonly readModels: ReadonlySet<LagSource>;
}

const nanosPerSecond = 1_000_000_000n;

/** The timestamp of the newest event each shard's newest snapshot holds, by shard; read once per
 * snapshot (a new snapshot replaces the entry). */
export class SnapshotClock {
  readonly #known = new Map<number, { sequence: number; timestamp: bigint }>();

  async timestampOf(client: ShardClient, sequence: number): Promise<bigint | null> {
    const known = this.#known.get(client.shard);
    if (known?.sequence === sequence) return known.timestamp;
    const [event] = await client.readEvents(sequence - 1, 1);
    if (event === undefined || event.sequence !== sequence) return null;
    this.#known.set(client.shard, { sequence, timestamp: event.event.timestamp });
    return event.event.timestamp;
  }
}

async function shardMetrics(options: {
  client: ShardClient;
  info: EngineInfo;
  mapSizeBytes: number;
  clock: SnapshotClock;
  nowNs: bigint;
}): Promise<ShardMetrics> {
  const { client, info } = options;
  let snapshotSequence = 0;
  for (const snapshot of info.snapshots)
    snapshotSequence = Math.max(snapshotSequence, snapshot.sequence);
  let snapshotAgeSeconds: number | null = null;
  if (snapshotSequence > 0) {
    const timestamp = await options.clock.timestampOf(client, snapshotSequence);
    if (timestamp !== null)
      snapshotAgeSeconds =
        options.nowNs > timestamp ? Number((options.nowNs - timestamp) / nanosPerSecond) : 0;
  }
  return {
    shard: client.shard,
    commits: client.submitMessagesSent,
    restarts: client.generation,
    queueDepth: client.outstandingCommands,
    sagasOpen: info.reservationsOpen,
    holdsOpen: info.holdsOpen,
    eventsSinceSnapshot: info.lastSequence - snapshotSequence,
    snapshotAgeSeconds,
    mapUsedBytes: info.logSizeBytes,
    mapSizeBytes: options.mapSizeBytes,
  };
}

/** Reads every figure once: one info() per shard, and each tracked read model's lag. */
export async function collectMetrics(
  source: MetricsSource,
  clock: SnapshotClock,
): Promise<LedgerMetrics> {
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const shards = await Promise.all(
    source.clients.map(async (client) =>
      shardMetrics({
        client,
        info: await client.info(),
        mapSizeBytes: source.mapSizeBytes,
        clock,
        nowNs,
      }),
    ),
  );
  const readModels = await Promise.all(
    [...source.readModels].map(async (model) => ({ path: model.path, shards: await model.lag() })),
  );
  return {
    transfers: { ...source.transfers },
    sagas: { ...source.sagas },
    shards,
    readModels,
  };
}

/** One open Ledger's metrics: its tallies, the read models it tracks and its instruments. */
export class LedgerMeters {
  readonly #transfers = new TransferTally();
  readonly #tallyTransfers = (results: readonly { readonly status: string }[]): void =>
    this.#transfers.add(results);
  readonly #readModels = new Set<LagSource>();
  readonly #clock = new SnapshotClock();
  readonly #parts: RouterParts;
  readonly #telemetry: LedgerTelemetry;

  /** `collect` is Ledger.metrics: what a reader's collection observes. */
  constructor(
    opened: { readonly manifest: Manifest; readonly parts: RouterParts },
    collect: () => Promise<LedgerMetrics>,
  ) {
    this.#parts = opened.parts;
    this.#telemetry = new LedgerTelemetry({ ledgerId: ledgerIdentity(opened.manifest), collect });
  }

  /** Records a write call's latency once `calls` settles (`startMs`: performance.now() when it
   * was made). */
  time<T>(operation: WriteOperation, startMs: number, calls: Promise<T>): Promise<T> {
    return this.#telemetry.track(operation, startMs, calls, null);
  }

  /** time() for a call that returns transfer results, which are tallied by status. */
  timeTransfers<T extends readonly { readonly status: string }[]>(
    operation: WriteOperation,
    startMs: number,
    calls: Promise<T>,
  ): Promise<T> {
    return this.#telemetry.track(operation, startMs, calls, this.#tallyTransfers);
  }

  collect(): Promise<LedgerMetrics> {
    return collectMetrics(
      {
        clients: this.#parts.clients,
        transfers: this.#transfers,
        sagas: this.#parts.sagas.outcomes,
        mapSizeBytes: mapSizeBytesDefault,
        readModels: this.#readModels,
      },
      this.#clock,
    );
  }

  trackReadModel(model: LagSource): () => void {
    this.#readModels.add(model);
    return () => void this.#readModels.delete(model);
  }

  close(): void {
    this.#telemetry.close();
    this.#readModels.clear();
  }
}
