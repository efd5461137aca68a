// The ownership lease of a replicated ledger: one key in the ledger's KV bucket on the NATS
// cluster, held by the one process that serves the ledger. The holder writes the key again every
// quarter of `leaseTtlMs` (a compare-and-set on the revision it last wrote), so a live holder's key
// keeps changing. Another process takes the key only after it watched it stay unchanged for a
// whole `leaseTtlMs`, by its own clock, and then only with a compare-and-set on the revision it
// watched: of several processes waiting, one wins. A clean close deletes the key, so that a
// waiting process takes over at once.
//
// A holder whose write finds the key taken has lost the lease: its calls fail with WRITER_FENCED
// from then on. One that merely cannot reach the cluster keeps serving what it can (its publishes
// wait for the cluster as ever): a standby that takes over meanwhile fences it anyway, since the
// new holder's open publishes a fence on every shard stream before it serves (shard-restore.ts),
// after which no publish of the old holder is accepted. That fence, not the lease's time, is what
// keeps a holder paused with a publish under way from writing after the takeover; the lease only
// decides who may open.

import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { StoredMsg } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { isLedgerError, LedgerError, type ErrorDetail } from '@shardledger/ledger-core';
import { connectNats, ledgerBucket, withinOpenTimeout, type NatsLink } from './nats-connection.js';
import {
  ledgerBucketName,
  type LeaseHolder,
  type ReplicationSettings,
} from './replication-options.js';
import { apiErrorCode, wrongLastSequenceCode } from './shard-replicator.js';

export const leaseKey = 'lease';

/** The lease as its holder keeps it. */
export interface LedgerLease {
  /** The error every call gets once this process lost the lease; null while it holds it. */
  lost(): LedgerError | null;
  /** Stops renewing and deletes the key (when still held), so that a standby takes over at once. */
  release(): Promise<void>;
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The holder named by a lease key's value, or null when it is unreadable. */
export function parseHolder(text: string): LeaseHolder | null {
  try {
    const value = JSON.parse(text) as Partial<LeaseHolder> | null;
    return typeof value?.holder === 'string' ? (value as LeaseHolder) : null;
  } catch {
    return null;
  }
}

function heldError(settings: ReplicationSettings, holder: LeaseHolder | null): LedgerError {
  const detail: ErrorDetail = {
    bucket: ledgerBucketName(settings.name),
    host: holder?.host ?? null,
    pid: holder?.pid ?? null,
    dir: holder?.dir ?? null,
    since: holder?.since ?? null,
  };
  return new LedgerError('LEASE_HELD', detail);
}

/** Writes `value` to the key where it holds `revision` (null: absent or deleted). The new
 * revision, or null when another process wrote the key first. */
async function compareAndSet(bucket: KV, value: string, revision: number | null) {
  try {
    return revision === null
      ? await bucket.create(leaseKey, value)
      : await bucket.update(leaseKey, value, revision);
  } catch (error) {
    if (apiErrorCode(error) === wrongLastSequenceCode) return null;
    throw error;
  }
}

/** The lease key as the stream's leader has it: its revision and value, or null when it is
 * absent or deleted. Not the KV's own get, which any replica may answer: after nodes of the
 * cluster were lost, a replica answered with a revision the leader never had, for minutes, and
 * a compare-and-set on it could never succeed. */
export async function leaderEntry(
  link: NatsLink,
  settings: ReplicationSettings,
): Promise<{ revision: number; value: string } | null> {
  const bucket = ledgerBucketName(settings.name);
  let message: StoredMsg | null;
  try {
    message = await link.manager.streams.getMessage(`KV_${bucket}`, {
      last_by_subj: `$KV.${bucket}.${leaseKey}`,
    });
  } catch (error) {
    if (String((error as Error).message).includes('no message found')) return null;
    throw error;
  }
  if (message === null) return null;
  const operation = message.header?.get('KV-Operation') ?? '';
  if (operation === 'DEL' || operation === 'PURGE') return null;
  return { revision: message.seq, value: message.string() };
}

/** Takes the ledger's lease for `dir`. A free key is taken at once. A held one is watched: taken
 * once it stayed unchanged for leaseTtlMs (its holder died), else, unless `settings.standby`, the
 * open fails with LEASE_HELD once it has seen the holder renew it twice (within about half of
 * leaseTtlMs). A standby waits for as long as the holder lives. */
export async function acquireLedgerLease(
  settings: ReplicationSettings,
  dir: string,
): Promise<LedgerLease> {
  const link = await connectNats(settings, 'shardledger lease');
  try {
    const bucket = await ledgerBucket(link, settings);
    const me: LeaseHolder = {
      holder: randomUUID(),
      host: hostname(),
      pid: process.pid,
      dir,
      since: new Date().toISOString(),
    };
    const value = JSON.stringify(me);
    /** The revision seen last, since when, and how many times it moved on before. */
    let watched: { revision: number; sinceMs: number; moves: number } | null = null;
    /** One look at the key: the revision this process now holds, or null. */
    const attempt = async (): Promise<number | null> => {
      const entry = await withinOpenTimeout(settings, () => leaderEntry(link, settings));
      const nowMs = performance.now();
      if (entry === null)
        return withinOpenTimeout(settings, () => compareAndSet(bucket, value, null));
      // An earlier write of ours whose answer was lost (a timeout) did land.
      if (entry.value === value) return entry.revision;
      if (watched === null || entry.revision !== watched.revision) {
        // A live holder moves its key on every quarter of leaseTtlMs. One move alone may be a
        // dead holder's last renewal landing late, so it takes two to refuse the open; a move
        // back (a new leader without a write the old one had) counts for none.
        const moves =
          watched === null ? 0 : watched.moves + (entry.revision > watched.revision ? 1 : 0);
        if (moves >= 2 && !settings.standby) throw heldError(settings, parseHolder(entry.value));
        watched = { revision: entry.revision, sinceMs: nowMs, moves };
        return null;
      }
      if (nowMs - watched.sinceMs < settings.leaseTtlMs) return null;
      return withinOpenTimeout(settings, () => compareAndSet(bucket, value, entry.revision));
    };
    for (;;) {
      let taken: number | null = null;
      try {
        taken = await attempt();
      } catch (error) {
        // A standby outwaits a cluster that stopped answering; an open fails.
        if (!settings.standby || !isLedgerError(error, 'REPLICATION_UNAVAILABLE')) throw error;
      }
      if (taken !== null) return new HeldLease(link, bucket, settings, value, taken);
      await delay(settings.leaseTtlMs / 4);
    }
  } catch (error) {
    await link.connection.close();
    throw error;
  }
}

class HeldLease implements LedgerLease {
  #revision: number;
  #lost: LedgerError | null = null;
  #writing = false;
  readonly #timer: NodeJS.Timeout;
  private readonly link: NatsLink;
  private readonly bucket: KV;
  private readonly settings: ReplicationSettings;
  private readonly value: string;

  constructor(
    link: NatsLink,
    bucket: KV,
    settings: ReplicationSettings,
    value: string,
    revision: number,
  ) {
    this.link = link;
    this.bucket = bucket;
    this.settings = settings;
    this.value = value;
    this.#revision = revision;
    this.#timer = setInterval(() => void this.#renew(), settings.leaseTtlMs / 4);
    this.#timer.unref();
  }

  lost(): LedgerError | null {
    return this.#lost;
  }

  #lose(problem: string): void {
    this.#lost ??= new LedgerError('WRITER_FENCED', {
      bucket: ledgerBucketName(this.settings.name),
      problem,
    });
    clearInterval(this.#timer);
  }

  async #renew(): Promise<void> {
    if (this.#writing || this.#lost !== null) return;
    this.#writing = true;
    try {
      const revision =
        (await compareAndSet(this.bucket, this.value, this.#revision)) ??
        (await this.#ownRevision());
      if (revision === null) this.#lose('another process took the lease');
      else if (this.#lost === null) this.#revision = revision;
    } catch {
      // The cluster did not answer: tried again at the next tick.
    } finally {
      this.#writing = false;
    }
  }

  /** The key's revision when it still holds this process's value: a renewal whose answer was
   * lost (a timeout) landed, and the next one asked with the revision before it. */
  async #ownRevision(): Promise<number | null> {
    const entry = await leaderEntry(this.link, this.settings);
    return entry !== null && entry.value === this.value ? entry.revision : null;
  }

  async release(): Promise<void> {
    clearInterval(this.#timer);
    try {
      if (this.#lost === null) {
        this.#lose('the ledger was closed');
        await this.bucket.delete(leaseKey, { previousSeq: this.#revision });
      }
    } catch {
      // Not deleted: a standby takes over once the key has stayed unchanged for leaseTtlMs.
    } finally {
      await this.link.connection.close();
    }
  }
}
