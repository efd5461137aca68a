// Snapshot files: the whole in-memory state of a shard at one sequence number, so recovery
// replays only the tail of the log. Format (little-endian):
//   magic "SLSNAP04" (8) | sequence f64 (8) | payload bytes f64 (8) | sha256 of payload (32)
//   | sha256 of the log record that ends at the sequence (32) | payload
// The payload is a sequence of msgpack values, written a slice at a time (snapshot-cut.ts),
// ending with the shard's id filters (snapshot-ids.ts). "SLSNAP03" files, the same without the
// filters, and "SLSNAP02" files, whose payload is one msgpack value, are still read; an older
// build skips a "SLSNAP04" file as unreadable and replays the log instead.
// A snapshot is written to a temp file, fsynced, renamed, and the directory fsynced; a torn or
// corrupted file fails its length or checksum and is skipped (recovery falls back to an older
// one, or to a full replay).
// The log record's digest binds the snapshot to the history it was taken from: a snapshot of
// another shard or ledger, or of events this log lost and then wrote differently, names a record
// this log does not have at that sequence, and is skipped like a corrupted one. Files of format
// "SLSNAP01" (no digest) are still read, and trusted on their checksum alone, as before.

import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { assert } from '../assert.js';
import { storedScaleOf } from '../currency.js';
import {
  ExpiryQueue,
  type AccountState,
  type CurrencyTotals,
  type LedgerState,
  type PendingState,
  type ReservationState,
} from '../domain/state.js';
import { counterData, CounterRows, countersFromData, type CounterData } from '../domain/balance.js';
import { AccountOrder, compareIds, SortedIds } from '../domain/account-order.js';
import { AccountTable } from '../account-table.js';
import { syncDir, syncFile, writeFileAtomic } from './durable-files.js';
import { decodeBody, snapshotPackr as packr, type EncodedBody } from './snapshot-cut.js';
import type { SnapshotIds } from './snapshot-ids.js';

const MAGIC = Buffer.from('SLSNAP04', 'latin1');
const MAGIC_V3 = Buffer.from('SLSNAP03', 'latin1');
const MAGIC_V2 = Buffer.from('SLSNAP02', 'latin1');
const MAGIC_V1 = Buffer.from('SLSNAP01', 'latin1');
const HEADER_BYTES = 8 + 8 + 8 + 32 + 32;
const HEADER_BYTES_V1 = 8 + 8 + 8 + 32;
/** Where snapshots found ahead of the log are kept (SnapshotStore.setAside). */
const aheadOfLogDirName = 'ahead-of-log';

/** The digest a snapshot at a sequence is bound to: sha256 of the log record's bytes. */
export function logRecordDigest(record: Uint8Array): Buffer {
  return createHash('sha256').update(record).digest();
}

/** Counters are plain data here ({ small: number[4], wide }), the layout snapshots always had.
 * `scale` is absent in snapshots taken before accounts recorded it. */
export type AccountPayload = Omit<AccountState, 'counters' | 'scale'> & {
  readonly counters: CounterData;
  readonly scale?: number;
};

export interface SnapshotPayload {
  readonly lastSequence: number;
  readonly lastTimestamp: bigint;
  readonly accounts: AccountPayload[];
  readonly pending: PendingState[];
  readonly reservations: ReservationState[];
  readonly totals: [string, { readonly accounts: CounterData; readonly saga: CounterData }][];
  /** Per currency, its accounts in id order (AccountOrder), so a restore does not sort: their
   * ordinals (older files hold their ids). Absent in snapshots taken before account listing:
   * the restore sorts then. */
  readonly accountOrder?: [string, string[] | number[]][];
  /** The shard's id filters at the cut; absent in snapshots taken before snapshots kept them. */
  readonly ids?: SnapshotIds;
}

/** A snapshot file's frame as its header gives it: whether its payload is a sequence of values
 * (SLSNAP04, 03) or one value, its sequence, its payload, the payload's sha256 as recorded, and
 * the digest of the log record it is bound to (null for SLSNAP01, which has none). */
export interface SnapshotFrame {
  readonly sliced: boolean;
  readonly sequence: number;
  readonly body: Buffer;
  readonly payloadDigest: Buffer;
  readonly logDigest: Buffer | null;
}

/** The frame of a snapshot file's bytes; null for an unknown magic or a torn file (its length is
 * not the header's). The caller checks the digests. */
export function snapshotFrame(bytes: Buffer): SnapshotFrame | null {
  const magic = bytes.subarray(0, 8);
  const sliced = magic.equals(MAGIC) || magic.equals(MAGIC_V3);
  const headerBytes =
    sliced || magic.equals(MAGIC_V2) ? HEADER_BYTES : magic.equals(MAGIC_V1) ? HEADER_BYTES_V1 : 0;
  if (headerBytes === 0 || bytes.length < headerBytes) return null;
  if (bytes.length !== headerBytes + bytes.readDoubleLE(16)) return null;
  return {
    sliced,
    sequence: bytes.readDoubleLE(8),
    body: bytes.subarray(headerBytes),
    payloadDigest: bytes.subarray(24, 56),
    logDigest: headerBytes === HEADER_BYTES ? bytes.subarray(56, 88) : null,
  };
}

/** A snapshot file read back: the state, and the id filters when the file keeps them. */
export interface LoadedSnapshot {
  readonly state: LedgerState;
  readonly ids: SnapshotIds | null;
}

/** Copies what a snapshot needs. This is the only part that stops writes (measured as pauseMs). */
export function captureState(state: LedgerState): SnapshotPayload {
  const accounts: AccountPayload[] = [];
  for (const account of state.accounts.values())
    accounts.push({ ...account, counters: counterData(account.counters) });
  const totals: SnapshotPayload['totals'] = [];
  for (const [currency, entry] of state.totals) {
    totals.push([
      currency,
      { accounts: counterData(entry.accounts), saga: counterData(entry.saga) },
    ]);
  }
  const accountOrder: [string, number[]][] = [];
  for (const [currency, ids] of state.accountOrder.byCurrency)
    accountOrder.push([currency, ids.ordinals()]);
  return {
    lastSequence: state.lastSequence,
    lastTimestamp: state.lastTimestamp,
    accountOrder,
    accounts,
    pending: [...state.pending.values()],
    reservations: [...state.reservations.values()],
    totals,
  };
}

export function restoreState(payload: SnapshotPayload): LedgerState {
  const counterRows = new CounterRows();
  const accounts = new AccountTable();
  for (const account of payload.accounts) {
    // Ordinals are creation order, and the payload lists accounts in that order.
    assert(account.ordinal === accounts.size, 'snapshot accounts in ordinal order');
    accounts.set(account.id, {
      ...account,
      scale: account.scale ?? storedScaleOf(account.currency),
      counters: counterRows.home(account.ordinal, account.counters),
    });
  }
  return assembleState(
    { accounts, accountOrder: restoreAccountOrder(payload), counterRows },
    payload,
  );
}

/** What a state holds besides its accounts, as a snapshot payload or a cut (snapshot-cut.ts)
 * carries it. */
export type StateHead = Omit<SnapshotPayload, 'accounts' | 'accountOrder' | 'ids'>;

/** The state of `parts` (accounts, their order and counter rows, built by the caller) and
 * `head`: its holds (with their expiry queue), reservations, totals and last event. */
export function assembleState(
  parts: Pick<LedgerState, 'accounts' | 'accountOrder' | 'counterRows'>,
  head: StateHead,
): LedgerState {
  const state: LedgerState = {
    ...parts,
    pending: new Map(head.pending.map((hold) => [hold.id, hold])),
    reservations: new Map(head.reservations.map((open) => [open.sagaId, open])),
    totals: new Map(
      head.totals.map(([currency, entry]): [string, CurrencyTotals] => [
        currency,
        { accounts: countersFromData(entry.accounts), saga: countersFromData(entry.saga) },
      ]),
    ),
    expiries: new ExpiryQueue(),
    lastTimestamp: head.lastTimestamp,
    lastSequence: head.lastSequence,
  };
  for (const hold of state.pending.values()) {
    if (hold.expiresAt !== 0n) state.expiries.push({ expiresAt: hold.expiresAt, id: hold.id });
  }
  return state;
}

/** The payload of a format-2 (or format-1) file, one msgpack value: what older builds wrote,
 * kept so that tests can write such files and check that they are still read. */
export function encodeWholeBody(payload: SnapshotPayload): Buffer {
  return packr.pack(storedPayload(payload));
}

/** The payload as stored: its account order by ordinals rather than ids. */
function storedPayload(payload: SnapshotPayload): SnapshotPayload {
  const order = payload.accountOrder;
  if (order === undefined) return payload;
  const ordinalOf = new Map<string, number>();
  for (const account of payload.accounts) ordinalOf.set(account.id, account.ordinal);
  const accountOrder = order.map(([currency, entries]): [string, number[]] => [
    currency,
    (entries as (string | number)[]).map((entry) => {
      const ordinal = typeof entry === 'number' ? entry : ordinalOf.get(entry);
      assert(ordinal !== undefined, 'an ordered account is in the snapshot');
      return ordinal;
    }),
  ]);
  return { ...payload, accountOrder };
}

/** The snapshot's account order, or (a snapshot without one) its accounts sorted by id. */
function restoreAccountOrder(payload: SnapshotPayload): AccountOrder {
  const order = new AccountOrder();
  const accounts = payload.accounts;
  if (payload.accountOrder === undefined) {
    const byCurrency = new Map<string, AccountPayload[]>();
    for (const account of accounts) {
      const listed = byCurrency.get(account.currency) ?? [];
      if (listed.length === 0) byCurrency.set(account.currency, listed);
      listed.push(account);
    }
    for (const [currency, listed] of byCurrency) {
      listed.sort((left, right) => compareIds(left.id, right.id));
      order.byCurrency.set(
        currency,
        SortedIds.fromAscending(
          listed.map((account) => account.id),
          listed.map((account) => account.ordinal),
        ),
      );
    }
    return order;
  }
  // Older snapshots list ids rather than ordinals.
  let ordinalOfId: Map<string, number> | null = null;
  let count = 0;
  for (const [currency, entries] of payload.accountOrder) {
    const ids: string[] = [];
    const ordinals: number[] = [];
    for (const entry of entries as (string | number)[]) {
      let ordinal: number | undefined;
      if (typeof entry === 'number') ordinal = entry;
      else {
        ordinalOfId ??= new Map(accounts.map((account) => [account.id, account.ordinal]));
        ordinal = ordinalOfId.get(entry);
      }
      const account = ordinal === undefined ? undefined : accounts[ordinal];
      assert(account !== undefined && account.currency === currency, 'ordered account exists');
      ids.push(account.id);
      ordinals.push(account.ordinal);
    }
    order.byCurrency.set(currency, SortedIds.fromAscending(ids, ordinals));
    count += ids.length;
  }
  assert(count === accounts.length, 'the account order holds every account');
  return order;
}

function fileName(sequence: number): string {
  return `snapshot-${String(sequence).padStart(16, '0')}.bin`;
}

export interface SnapshotFile {
  readonly sequence: number;
  readonly path: string;
  readonly sizeBytes: number;
}

export class SnapshotStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
  }

  /** Snapshot files on disk, newest first (by name; validity is checked on load). */
  list(): SnapshotFile[] {
    return readdirSync(this.dir)
      .filter((name) => /^snapshot-\d{16}\.bin$/.test(name))
      .sort()
      .reverse()
      .map((name) => {
        const path = join(this.dir, name);
        return {
          sequence: Number.parseInt(name.slice(9, 25), 10),
          path,
          sizeBytes: statSync(path).size,
        };
      });
  }

  /** Writes the snapshot at `sequence` whose payload is `body`; `logDigest`: logRecordDigest
   * of the log record that ends at `sequence`. */
  async write(sequence: number, body: EncodedBody, logDigest: Uint8Array): Promise<SnapshotFile> {
    assert(logDigest.length === 32, 'a sha256 log record digest');
    const header = Buffer.alloc(HEADER_BYTES);
    MAGIC.copy(header, 0);
    header.writeDoubleLE(sequence, 8);
    header.writeDoubleLE(body.bytes, 16);
    body.digest.copy(header, 24);
    header.set(logDigest, 56);
    const path = join(this.dir, fileName(sequence));
    await writeFileAtomic(path, [header, ...body.slices]);
    return { sequence, path, sizeBytes: header.length + body.bytes };
  }

  /** Parses and checks one file; null when torn, truncated, corrupted, or bound to a log record
   * other than the one `logDigestAt` gives for its sequence (undefined: no such record). */
  load(path: string, logDigestAt: (sequence: number) => Buffer | undefined): LoadedSnapshot | null {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch {
      return null;
    }
    const frame = snapshotFrame(bytes);
    if (frame === null) return null;
    const { sliced, sequence, body } = frame;
    if (!createHash('sha256').update(body).digest().equals(frame.payloadDigest)) return null;
    if (frame.logDigest !== null) {
      const expected = logDigestAt(sequence);
      if (expected === undefined || !expected.equals(frame.logDigest)) return null;
    }
    try {
      const payload = sliced ? decodeBody(body) : (packr.unpack(body) as SnapshotPayload);
      assert(payload.lastSequence === sequence, 'snapshot header and payload agree');
      return { state: restoreState(payload), ids: payload.ids ?? null };
    } catch {
      return null;
    }
  }

  /** Moves these snapshot files out of use, durably (both dirs are fsynced), before the caller
   * goes on: into `ahead-of-log/`, never deleted, since one may be the last copy of events the
   * log lost; an operator may still want it. */
  async setAside(files: readonly SnapshotFile[]): Promise<void> {
    if (files.length === 0) return;
    const aside = join(this.dir, aheadOfLogDirName);
    mkdirSync(aside, { recursive: true });
    for (const file of files) renameSync(file.path, join(aside, basename(file.path)));
    await syncDir(aside);
    await syncDir(this.dir);
  }

  /** Copies every snapshot that ends at or before `throughSequence` into `dir` (created),
   * durably; returns how many. A snapshot is complete once it has its name; one pruned while
   * this runs is left out. */
  async copyTo(dir: string, throughSequence: number): Promise<number> {
    await mkdir(dir);
    let copied = 0;
    for (const file of this.list()) {
      // A later one describes events the copied log does not hold: opening the copy would skip it.
      if (file.sequence > throughSequence) continue;
      const target = join(dir, basename(file.path));
      try {
        await copyFile(file.path, target);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      await syncFile(target);
      copied += 1;
    }
    await syncDir(dir);
    return copied;
  }

  /** Deletes all but the newest `keep` snapshots, and stray temp files. */
  prune(keep: number): void {
    for (const file of this.list().slice(keep)) unlinkSync(file.path);
    for (const name of readdirSync(this.dir))
      if (name.endsWith('.tmp')) unlinkSync(join(this.dir, name));
  }
}
