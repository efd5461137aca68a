// Goal: TransferIdGuard admits an id without a lookup only above every id seen, and orders a slow
// id after the earlier writes that may hold it. Method: the guard alone, segments driven by hand.
import { describe, expect, it } from 'vitest';
import { TransferIdGuard } from '../src/write/id-check.js';

describe('TransferIdGuard', () => {
  it('admits ids above every one seen, and none at all once a shard vouches for no greatest id', () => {
    const guard = new TransferIdGuard(['b', 'd', '']);
    const segment = guard.begin();
    expect(guard.admit(segment, 'c')).toBe(false);
    expect(guard.admit(segment, 'd')).toBe(false);
    expect(guard.admit(segment, 'e')).toBe(true);
    expect(guard.admit(segment, 'e')).toBe(false);
    expect(segment.mayWrite('e')).toBe(true);
    expect(segment.mayWrite('d')).toBe(false);
    guard.end(segment);
    const unordered = new TransferIdGuard(['b', null]);
    expect(unordered.admit(unordered.begin(), 'zzz')).toBe(false);
  });

  it('makes a slow id wait for the earlier segments that may write it to queue their writes, never for later ones', async () => {
    const guard = new TransferIdGuard(['']);
    const first = guard.begin();
    expect(guard.admit(first, 'm')).toBe(true);
    const unrelated = guard.begin();
    guard.markSlow(unrelated, 'x');
    const checked = guard.begin();
    guard.markSlow(checked, 'm');
    const later = guard.begin();
    guard.markSlow(later, 'm');
    let waited = false;
    const waiting = guard.writesQueuedBefore(checked).then(() => {
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
});
