// verify()'s check of the id index against the log: every transfer id the log wrote must be found
// by the lookup the decider uses. A damaged page of the index loses ids silently (LMDB checks no
// page contents), and a lost id is worse than a lost row: the next transfer with that id is taken
// as new and applied a second time. Replay alone cannot see it, since it never reads the index.
// The same holds for the shard's filter of known ids (known-ids.ts), which decide asks before the
// index: an id it answers as new is never looked up.

import { assert } from '../assert.js';
import type { Violation } from '../domain/audit.js';
import type { LedgerState } from '../domain/state.js';
import type { LedgerEvent } from '../domain/types.js';
import { corruptionOf } from './corruption.js';

/** How many unfindable ids verify() lists one by one; past this it reports a count. */
const unindexedListedMax = 100;

/** The ids whose records `event` writes to the index: a transfer, the post or void of a pending
 * one, and the sides of a saga that closes (read from `replayed`, the state before the event). */
function indexedIdsOf(event: LedgerEvent, replayed: LedgerState): readonly string[] {
  switch (event.type) {
    case 'TransferCreated':
      return [event.transfer.id];
    case 'PendingTransferPosted':
    case 'PendingTransferVoided':
      return [event.id];
    case 'ReservationCommitted':
    case 'ReservationReleased': {
      // A release with no reservation is a tombstone: it writes no record.
      const reservation = replayed.reservations.get(event.sagaId);
      if (reservation === undefined) return [];
      const ids = reservation.legs.map((leg) => leg.transfer.id);
      if (event.resolution !== undefined) ids.push(event.resolution.id);
      return ids;
    }
    default:
      return [];
  }
}

/** Which of a window's ids the index finds: sets `found[at]` to 1 for each `ids[at]` that the
 * decider's lookup finds, a step at a time (verify gives writes the thread between steps). */
export type FindIndexed = (ids: readonly string[], found: Uint8Array) => Generator<void, void>;

/** Ids looked up in the index at once: a window's lookups read each chunk of a random-id run a
 * few times instead of once per id (ScatteredRuns.findEach). */
export const indexAuditWindowIds = 65_536;

/** Collects, during a replay, the ids the index should hold and cannot find. Feed every event
 * before it is applied to `replayed`; run lookup() whenever `full`, and once at the end. */
export class IndexAudit {
  /** Which ids the index finds. */
  private readonly find: FindIndexed;
  /** Whether the filter of known ids knows `id` (does not answer it as new). */
  private readonly known: (id: string) => boolean;
  private readonly violations: Violation[] = [];
  private unindexed = 0;
  private unknown = 0;
  /** The window: ids not looked up yet, with the sequence of the event of each. */
  private ids: string[] = [];
  private sequences: number[] = [];

  constructor(find: FindIndexed, known: (id: string) => boolean) {
    this.find = find;
    this.known = known;
  }

  /** Whether the window is full: lookup() is due. */
  get full(): boolean {
    return this.ids.length >= indexAuditWindowIds;
  }

  check(sequence: number, event: LedgerEvent, replayed: LedgerState): void {
    for (const id of indexedIdsOf(event, replayed)) {
      if (!this.known(id)) {
        this.unknown += 1;
        if (this.unknown <= unindexedListedMax)
          this.violations.push({
            rule: 'transfer_known',
            detail: `transfer ${JSON.stringify(id)} (sequence ${sequence}) is in the log but the shard's filter of known ids takes it as new`,
          });
      }
      this.ids.push(id);
      this.sequences.push(sequence);
    }
  }

  /** Looks up the window's ids, in steps, and empties it. */
  *lookup(): Generator<void, void> {
    const { ids, sequences } = this;
    this.ids = [];
    this.sequences = [];
    const found = new Uint8Array(ids.length);
    try {
      yield* this.find(ids, found);
    } catch (error) {
      // A damaged index page: named with the window's first event (the replay went on past it).
      throw corruptionOf(error, { sequence: sequences[0] ?? 0 }) ?? error;
    }
    for (let at = 0; at < ids.length; at += 1) {
      if (found[at] === 1) continue;
      this.unindexed += 1;
      if (this.violations.length < unindexedListedMax) {
        this.violations.push({
          rule: 'transfer_indexed',
          detail: `transfer ${JSON.stringify(ids[at])} (sequence ${sequences[at]}) is in the log but not found through the id index`,
        });
      }
    }
  }

  result(): Violation[] {
    assert(this.ids.length === 0, 'every id of the audit is looked up');
    const more: Violation[] = [];
    const listed = (rule: string) => this.violations.filter((found) => found.rule === rule).length;
    if (this.unindexed > listed('transfer_indexed'))
      more.push({
        rule: 'transfer_indexed',
        detail: `${this.unindexed - listed('transfer_indexed')} more transfer ids not found through the id index`,
      });
    if (this.unknown > listed('transfer_known'))
      more.push({
        rule: 'transfer_known',
        detail: `${this.unknown - listed('transfer_known')} more transfer ids that the filter of known ids takes as new`,
      });
    return [...this.violations, ...more];
  }
}
