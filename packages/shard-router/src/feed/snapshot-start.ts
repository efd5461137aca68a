// Where a feed resumed from a cursor starts reading a shard's log. The balances it hands out with
// each event are walked from the shard's first event (shard-balances.ts), so a feed resumed at
// event N would read the N events before it again. Instead it starts from the newest snapshot of
// the shard at or before N: the snapshot holds every account's counters after its sequence, and
// only the events after it are read. The snapshot is read here, in the feed's thread, not in the
// shard's, so that no write waits for it, a slice per turn of the event loop; it is trusted only
// when the shard's log still holds the record it is bound to (the check an open makes).
// Reading a snapshot costs about 2 us per account (the walk it saves, about 1.7 us per event), so
// a snapshot is used only when it saves several times more events than the shard has accounts
// now (at least as many as the snapshot holds).

import { join } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { SnapshotStore, readSnapshotBalances } from '@shardledger/ledger-core/internals';
import type { ShardClient } from '../shard/shard-client.js';
import type { AccountBalance } from './change-types.js';

/** Events a snapshot must save per account of the shard to be read instead of walking them. */
const eventsPerAccountMin = 4;

/** A shard's accounts after event `sequence`, from its snapshot. */
export interface SnapshotStart {
  readonly sequence: number;
  readonly accounts: AccountBalance[];
}

/** The newest usable snapshot of `client`'s shard at or before event `after`, or null (none, or
 * none that the log vouches for: the feed then walks from the first event). */
export async function snapshotStart(
  client: ShardClient,
  after: number,
): Promise<SnapshotStart | null> {
  if (after === 0) return null;
  const accountsNow = (await client.info()).accounts;
  const store = new SnapshotStore(join(client.dir, 'snapshots'));
  for (const file of store.list()) {
    if (file.sequence > after || file.sequence === 0) continue;
    if (file.sequence < accountsNow * eventsPerAccountMin) break;
    const digest = await client.logDigestAt(file.sequence);
    if (digest === null) continue;
    const accounts = await readSnapshotBalances(file.path, file.sequence, digest, turn);
    if (accounts !== null) return { sequence: file.sequence, accounts };
  }
  return null;
}
