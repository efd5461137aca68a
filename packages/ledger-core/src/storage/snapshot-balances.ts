// Every account's counters in a snapshot file, read a slice per turn of the event loop: what a
// change feed resumed from a cursor starts its balances from (shard-router feed/snapshot-start.ts),
// in the consumer's thread. SnapshotStore.load builds a whole shard state at once, which held that
// thread for 2.0-2.5 s for a million accounts; this reads the file's values one at a time and makes
// only the four counters of each account (the same million: 1.4-2.2 s in all, the longest hold of
// the thread 57-216 ms, on the project's 2-core machine).

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { CounterData } from '../domain/balance.js';
import { accountsOfColumns, type AccountColumns } from './account-columns.js';
import { snapshotPackr } from './snapshot-cut.js';
import { snapshotFrame, type AccountPayload } from './snapshot-store.js';

/** One account's counters after a snapshot's sequence. */
export interface SnapshotBalance {
  readonly accountId: string;
  readonly debitsPosted: bigint;
  readonly creditsPosted: bigint;
  readonly debitsPending: bigint;
  readonly creditsPending: bigint;
}

/** Bytes hashed per turn while the payload's checksum is checked. */
const hashedPerTurn = 8 << 20;

function balanceOf(account: AccountPayload): SnapshotBalance {
  const counters: CounterData = account.counters;
  const value = (index: number): bigint =>
    counters.wide === null
      ? BigInt(counters.small[index] as number)
      : (counters.wide[index] as bigint);
  return {
    accountId: account.id,
    debitsPosted: value(0),
    creditsPosted: value(1),
    debitsPending: value(2),
    creditsPending: value(3),
  };
}

/** The value of `body` that starts at `at`, and where the next one starts. */
function valueAt(body: Uint8Array, at: number): { value: unknown; next: number } {
  let value: unknown;
  let next = body.length;
  snapshotPackr.unpackMultiple(
    body.subarray(at),
    (found: unknown, _start?: number, end?: number) => {
      value = found;
      next = at + (end as number);
      return false;
    },
  );
  return { value, next };
}

/**
 * The counters of every account in the snapshot file at `path`, which must end at `sequence` and
 * be bound to the log record whose digest is `logDigest`; null when it is not, when it fails its
 * length or checksum, or when it is of a format whose payload is one value (read those with
 * SnapshotStore.load). `pause` is awaited between slices.
 */
export async function readSnapshotBalances(
  path: string,
  sequence: number,
  logDigest: Uint8Array,
  pause: () => Promise<void>,
): Promise<SnapshotBalance[] | null> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    return null;
  }
  const frame = snapshotFrame(bytes);
  if (frame === null || !frame.sliced || frame.sequence !== sequence) return null;
  if (frame.logDigest === null || !Buffer.from(logDigest).equals(frame.logDigest)) return null;
  const body = frame.body;
  const hash = createHash('sha256');
  for (let at = 0; at < body.length; at += hashedPerTurn) {
    hash.update(body.subarray(at, at + hashedPerTurn));
    await pause();
  }
  if (!hash.digest().equals(frame.payloadDigest)) return null;
  try {
    const first = valueAt(body, 0);
    const head = first.value as { lastSequence: number; accounts: number; columns?: boolean };
    if (head.lastSequence !== sequence || typeof head.accounts !== 'number') return null;
    const balances: SnapshotBalance[] = [];
    let at = first.next;
    while (balances.length < head.accounts) {
      const { value, next } = valueAt(body, at);
      at = next;
      const accounts =
        head.columns === true
          ? accountsOfColumns(value as AccountColumns, balances.length)
          : (value as AccountPayload[]);
      for (const account of accounts) balances.push(balanceOf(account));
      await pause();
    }
    return balances.length === head.accounts ? balances : null;
  } catch {
    return null;
  }
}
