// Goal: TransferIdGuard admits an id without a lookup only above every id seen, and orders a slow
// id after the earlier writes that may hold it. Method: the guard alone, segments driven by hand.
import { describe, expect, it } from 'vitest';
import { IdFilter } from '@shardledger/ledger-core/internals';
import { TransferIdGuard } from '../src/write/id-check.js';

describe('TransferIdGuard', () => {
  it('admits ids above every one seen, and none at all once a shard vouches for no greatest id', () => {
    const guard = new TransferIdGuard(['b', 'd', ''], []);
    const segment = guard.begin();
    expect(guard.admit(segment, 'c')).toBe(false);
    expect(guard.admit(segment, 'd')).toBe(false);
    expect(guard.admit(segment, 'e')).toBe(true);
    expect(guard.admit(segment, 'e')).toBe(false);
    expect(segment.mayWrite('e')).toBe(true);
    expect(segment.mayWrite('d')).toBe(false);
    guard.end(segment);
    const unordered = new TransferIdGuard(['b', null], []);
    expect(unordered.admit(unordered.begin(), 'zzz')).toBe(false);
  });

  it('makes a slow id wait for the earlier segments that may write it to queue their writes, never for later ones', async () => {
    const guard = new TransferIdGuard([''], []);
    const first = guard.begin();
    expect(guard.admit(first, 'm')).toBe(true);
    const unrelated = guard.begin();
    guard.markSlow(unrelated, 'x');
    const checked = guard.begin();
    guard.markSlow(checked, 'm');
    const later = guard.begin();
    guard.markSlow(later, 'm');
    let waited = false;
    const waiting = guard.writesQueuedBefore(checked, ['m']).then(() => {
      waited = true;
    });
    // `later` holds the same id but began after: only `first` is waited for.
    await new Promise((resolve) => setImmediate(resolve));
    expect(waited).toBe(false);
    first.markQueued();
    await waiting;
    expect(waited).toBe(true);
    for (const segment of [first, unrelated, checked, later]) guard.end(segment);
    expect(guard.inFlight).toBe(0);
  });

  it('asks for a lookup only for a slow id that a shard held on open or that was routed since', () => {
    const onShard = new IdFilter();
    onShard.add('stored-on-shard-1');
    const guard = new TransferIdGuard(['z', 'z'], [new IdFilter().snapshot(), onShard.snapshot()]);
    const segment = guard.begin();
    // Below the greatest id, so slow: a lookup only where the filter may have seen the id.
    expect(guard.take(segment, 'stored-on-shard-1')).toBe(true);
    expect(guard.take(segment, 'never-seen')).toBe(false);
    expect(segment.mayWrite('never-seen')).toBe(true);
    // Routed once, it is seen from then on: a second transfer with it is looked up.
    expect(guard.take(guard.begin(), 'never-seen')).toBe(true);
    expect(guard.firstSeen('another-new-id')).toBe(true);
    expect(guard.firstSeen('another-new-id')).toBe(false);
    // A fast id is noted too: a later slow use of it is looked up.
    const fast = new TransferIdGuard(['a'], []);
    expect(fast.take(fast.begin(), 'b')).toBe(false);
    expect(fast.firstSeen('b')).toBe(false);
  });
});
