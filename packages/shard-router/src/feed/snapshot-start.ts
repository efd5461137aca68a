// Where a feed resumed from a cursor starts reading a shard's log. The balances it hands out with
// each event are walked from the shard's first event (shard-balances.ts), so a feed resumed at
// event N would read the N events before it again. Instead it starts from the newest snapshot of
// the shard at or before N: the snapshot holds every account's counters after its sequence, and
// only the events after it are read. The snapshot is read here, in the feed's thread, not in the
// shard's, so that no write waits for it; it is trusted only when the shard's log still holds the
// record it is bound to (the check an open makes).
// Reading a snapshot holds the feed's thread at once (about 2 s for a million accounts on the
// project's 2-core machine), where the walk it saves reads a page per turn of the event loop
// (about 1.7 us per event). So a snapshot is used only when it saves several times more events
// than the shard has accounts now (at least as many as the snapshot holds).

import { join } from 'node:path';
import { SnapshotStore, accountView } from '@shardledger/ledger-core/internals';
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
    const bound = Buffer.from(digest);
    const loaded = store.load(file.path, (sequence) =>
      sequence === file.sequence ? bound : undefined,
    );
    if (loaded === null) continue;
    const accounts: AccountBalance[] = [];
    for (const account of loaded.state.accounts.values()) {
      const view = accountView(account);
      accounts.push({
        accountId: view.id,
        debitsPosted: view.debitsPosted,
        creditsPosted: view.creditsPosted,
        debitsPending: view.debitsPending,
        creditsPending: view.creditsPending,
      });
    }
    return { sequence: file.sequence, accounts };
  }
  return null;
}
