// A snapshot taken without stopping the shard for long. Writes pause only while the state is cut:
// references to its accounts (their objects never change: a status change replaces one), copies
// of the counter rows (typed arrays, one memcpy each) and of the few wide counters, the lists
// of holds, reservations and totals, and the account order's chunks (shared, each copied by the
// live order before it changes: SortedIds.cut). The body is then encoded from the cut a slice at
// a time, each slice its own msgpack value, with a turn of the event loop between slices, so the
// shard goes on committing meanwhile. Copying and encoding a million accounts in the pause took
// seconds; cutting them takes tens of ms.
//
// Body of format 3, a sequence of msgpack values:
//   head { lastSequence, lastTimestamp, pending, reservations, totals, accounts: count,
//          ordered: boolean, columns: boolean }
//   account slices, in ordinal order, `accounts` in all: AccountColumns (account-columns.ts)
//     when `columns`, else AccountPayload[] (what earlier builds wrote)
//   order slices (when `ordered`): [currency, ordinals], each currency's in id order; the
//     ordinals the bytes of a Uint32Array when `columns`, else a number[]
//   id filters (files of magic SLSNAP04 that have them): the transfer-id and saga-id filters
//     (snapshot-ids.ts), their values objects where order slices are arrays

import { createHash, type Hash } from 'node:crypto';
import { Packr } from 'msgpackr';
import { assert } from '../assert.js';
import { COUNTER_ROW_SHIFT, counterData } from '../domain/balance.js';
import type { SortedIdsCut } from '../domain/account-order.js';
import type { AccountState, LedgerState } from '../domain/state.js';
import type { AccountPayload, SnapshotPayload, StateHead } from './snapshot-store.js';
import {
  decodeSnapshotIds,
  isSnapshotIdsHead,
  snapshotIdValues,
  type SnapshotIds,
} from './snapshot-ids.js';
import {
  accountColumns,
  accountsOfColumns,
  accountsPerColumnSlice,
  aligned,
  bytesOf,
} from './account-columns.js';
import type { AccountColumns } from './account-columns.js';

export const snapshotPackr = new Packr({
  useRecords: true,
  useBigIntExtension: true,
  moreTypes: false,
  structuredClone: false,
});

/** Account ids per order slice: a slice costs a few ms to encode. */
const orderedPerSlice = 16_384;

/** What the pause copies. */
export interface StateCut {
  readonly head: StateHead;
  readonly accounts: readonly AccountState[];
  /** The counter rows as they were (copies). */
  readonly rows: readonly Float64Array[];
  /** The counters of accounts beyond 2^53 (copies), by ordinal. */
  readonly wide: ReadonlyMap<number, readonly bigint[]>;
  /** Per currency, its accounts' ordinals in id order, as they were. */
  readonly order: readonly [string, SortedIdsCut][];
  /** The shard's id filters (their live words, read when the body is encoded: snapshot-ids.ts),
   * or null to keep none. */
  readonly ids: SnapshotIds | null;
}

/** Cuts `state`, with the shard's id filters `ids`: the only part of a snapshot that stops
 * writes. */
export function cutState(state: LedgerState, ids: SnapshotIds | null = null): StateCut {
  const accounts = Array.from(state.accounts.values());
  const rows = state.counterRows.chunks.map((chunk) => chunk.slice());
  const wide = new Map<number, readonly bigint[]>();
  for (let chunk = 0; chunk < rows.length; chunk += 1) {
    const values = rows[chunk] as Float64Array;
    // A wide account's row holds Infinity (balance.ts): its bigints are the counters.
    for (let at = 0; at < values.length; at += 4) {
      if (values[at] !== Infinity) continue;
      const ordinal = (chunk << COUNTER_ROW_SHIFT) + at / 4;
      const account = accounts[ordinal];
      if (account?.counters.wide) wide.set(ordinal, account.counters.wide.slice());
    }
  }
  const totals: SnapshotPayload['totals'] = [];
  for (const [currency, entry] of state.totals) {
    totals.push([
      currency,
      { accounts: counterData(entry.accounts), saga: counterData(entry.saga) },
    ]);
  }
  const order: [string, SortedIdsCut][] = [];
  for (const [currency, ids] of state.accountOrder.byCurrency) order.push([currency, ids.cut()]);
  return {
    head: {
      lastSequence: state.lastSequence,
      lastTimestamp: state.lastTimestamp,
      pending: [...state.pending.values()],
      reservations: [...state.reservations.values()],
      totals,
    },
    accounts,
    rows,
    wide,
    order,
    ids,
  };
}

/** The encoded body: its slices, their total size, and its sha256. */
export interface EncodedBody {
  readonly slices: Buffer[];
  readonly bytes: number;
  readonly digest: Buffer;
}

class BodyWriter {
  readonly slices: Buffer[] = [];
  bytes = 0;
  readonly #hash: Hash = createHash('sha256');

  add(value: unknown): void {
    const slice = snapshotPackr.pack(value);
    this.slices.push(slice);
    this.bytes += slice.length;
    this.#hash.update(slice);
  }

  finish(): EncodedBody {
    return { slices: this.slices, bytes: this.bytes, digest: this.#hash.digest() };
  }
}

/** Encodes the body of `cut`, a slice per `pause()` (a turn of the event loop). */
export async function encodeCut(cut: StateCut, pause: () => Promise<void>): Promise<EncodedBody> {
  const writer = new BodyWriter();
  writer.add({ ...cut.head, accounts: cut.accounts.length, ordered: true, columns: true });
  for (let start = 0; start < cut.accounts.length; start += accountsPerColumnSlice) {
    await pause();
    const end = Math.min(cut.accounts.length, start + accountsPerColumnSlice);
    writer.add(accountColumns(cut.accounts.slice(start, end), start, cut.rows, cut.wide));
  }
  for (const [currency, ids] of cut.order) {
    let left = ids.size;
    let slice = new Uint32Array(Math.min(left, orderedPerSlice));
    let filled = 0;
    for (const chunk of ids.ordinals) {
      for (const ordinal of chunk) {
        slice[filled++] = ordinal;
        if (filled < slice.length) continue;
        await pause();
        writer.add([currency, bytesOf(slice)]);
        left -= filled;
        slice = new Uint32Array(Math.min(left, orderedPerSlice));
        filled = 0;
      }
    }
    assert(left === 0 && filled === 0, 'the order slices hold every ordinal of the cut');
  }
  if (cut.ids !== null)
    for (const value of snapshotIdValues(cut.ids)) {
      await pause();
      writer.add(value);
    }
  return writer.finish();
}

/** The payload of a format-3 body. */
export function decodeBody(body: Uint8Array): SnapshotPayload {
  const values = snapshotPackr.unpackMultiple(body) as unknown[];
  const head = values[0] as SnapshotPayload & {
    accounts: number;
    ordered: boolean;
    columns?: boolean;
  };
  assert(typeof head.accounts === 'number', 'a snapshot body starts with its head');
  const accounts: AccountPayload[] = [];
  let at = 1;
  while (accounts.length < head.accounts) {
    const slice = values[at++];
    if (head.columns === true)
      for (const account of accountsOfColumns(slice as AccountColumns, accounts.length))
        accounts.push(account);
    else {
      assert(Array.isArray(slice), 'an account slice');
      for (const account of slice as AccountPayload[]) accounts.push(account);
    }
  }
  assert(accounts.length === head.accounts, 'the account slices hold every account');
  const byCurrency = new Map<string, number[]>();
  for (; at < values.length && !isSnapshotIdsHead(values[at]); at += 1) {
    const [currency, stored] = values[at] as [string, number[] | Uint8Array];
    const ordinals =
      stored instanceof Uint8Array
        ? aligned(stored, stored.byteLength / 4, 4, Uint32Array)
        : (stored as number[]);
    const list = byCurrency.get(currency) ?? [];
    if (list.length === 0) byCurrency.set(currency, list);
    for (const ordinal of ordinals) list.push(ordinal);
  }
  const { ordered, accounts: _count, columns: _columns, ...rest } = head;
  return {
    ...rest,
    accounts,
    ...(ordered ? { accountOrder: [...byCurrency] } : {}),
    ...(at < values.length ? { ids: decodeSnapshotIds(values.slice(at)) } : {}),
  };
}
