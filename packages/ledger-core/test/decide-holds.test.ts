// Goal: the decider's two-phase transfers (holds posted, voided, expired) and pending timeouts.
// Method: given/when/then on MemoryLedger with a clock moved by the test, no storage.
import { describe, expect, it } from 'vitest';
import { limits } from '../src/index.js';
import { decide } from '../src/domain/decide.js';
import { type LedgerState } from '../src/domain/state.js';
import {
  expectCode,
  expectExists,
  expectOk,
  counters,
  expire,
  ledgerWith,
  run,
} from './fixtures/decide-fixtures.js';
import { group, MS, post, spec, transfer, voidPending } from './fixtures/engine-fixtures.js';

describe('two-phase transfers', () => {
  it('holds a pending transfer in the pending counters only', () => {
    const ledger = ledgerWith();
    expectOk(run(ledger, transfer('p1', 'a', 'b', 10n, { pending: true })));
    expect(counters(ledger, 'a')).toEqual([0n, 0n, 10n, 0n]);
    expect(counters(ledger, 'b')).toEqual([0n, 0n, 0n, 10n]);
    expect(ledger.state.pending.has('p1')).toBe(true);
    expect(ledger.index.transfers.get('p1')?.state).toBe('pending');
  });

  it('posts the full pending amount when the post names no amount', () => {
    const ledger = ledgerWith(transfer('p1', 'a', 'b', 10n, { pending: true }));
    expectOk(run(ledger, post('x1', 'p1')), ['PendingTransferPosted']);
    expect(counters(ledger, 'a')).toEqual([10n, 0n, 0n, 0n]);
    expect(counters(ledger, 'b')).toEqual([0n, 10n, 0n, 0n]);
    expect(ledger.index.transfers.get('p1')).toMatchObject({ state: 'posted', postedAmount: 10n });
    expect(ledger.state.pending.has('p1')).toBe(false);
  });

  it('posts a smaller amount and releases the rest of the hold', () => {
    const ledger = ledgerWith(transfer('p1', 'a', 'b', 10n, { pending: true }));
    expectOk(run(ledger, post('x1', 'p1', 4n)));
    expect(counters(ledger, 'a')).toEqual([4n, 0n, 0n, 0n]);
    expect(counters(ledger, 'b')).toEqual([0n, 4n, 0n, 0n]);
    expect(ledger.index.transfers.get('p1')).toMatchObject({ state: 'posted', postedAmount: 4n });
  });

  it('rejects a post for more than the pending amount', () => {
    const ledger = ledgerWith(transfer('p1', 'a', 'b', 10n, { pending: true }));
    expectCode(run(ledger, post('x1', 'p1', 11n)), 'AMOUNT_EXCEEDS_PENDING');
    expectOk(run(ledger, post('x2', 'p1', 10n)));
  });

  it('voids a pending transfer and returns both pending counters to zero', () => {
    const ledger = ledgerWith(transfer('p1', 'a', 'b', 10n, { pending: true }));
    expectOk(run(ledger, voidPending('v1', 'p1')), ['PendingTransferVoided']);
    expect(counters(ledger, 'a')).toEqual([0n, 0n, 0n, 0n]);
    expect(counters(ledger, 'b')).toEqual([0n, 0n, 0n, 0n]);
    expect(ledger.index.transfers.get('p1')?.state).toBe('voided');
  });

  it('resolves a hold at most once: post then post, post then void, void then post', () => {
    const ledger = ledgerWith(
      transfer('p1', 'a', 'b', 10n, { pending: true }),
      transfer('p2', 'a', 'b', 10n, { pending: true }),
    );
    expectOk(run(ledger, post('x1', 'p1')));
    expectCode(run(ledger, post('x2', 'p1')), 'PENDING_ALREADY_POSTED');
    expectCode(run(ledger, voidPending('x3', 'p1')), 'PENDING_ALREADY_POSTED');
    expectOk(run(ledger, voidPending('v1', 'p2')));
    expectCode(run(ledger, post('x4', 'p2')), 'PENDING_ALREADY_VOIDED');
    expectCode(run(ledger, voidPending('x5', 'p2')), 'PENDING_ALREADY_VOIDED');
  });

  it('returns exists for an identical re-sent post or void, and rejects one with other fields', () => {
    const ledger = ledgerWith(
      transfer('p1', 'a', 'b', 10n, { pending: true }),
      transfer('p2', 'a', 'b', 10n, { pending: true }),
    );
    expectOk(run(ledger, post('x1', 'p1', 6n, { why: 'capture' })));
    expectExists(run(ledger, post('x1', 'p1', 6n, { why: 'capture' })));
    expectCode(
      run(ledger, post('x1', 'p1', 5n, { why: 'capture' })),
      'EXISTS_WITH_DIFFERENT_FIELDS',
    );
    expectCode(run(ledger, post('x1', 'p1', 6n)), 'EXISTS_WITH_DIFFERENT_FIELDS');
    expectCode(run(ledger, voidPending('x1', 'p1')), 'EXISTS_WITH_DIFFERENT_FIELDS');
    expectOk(run(ledger, voidPending('v2', 'p2')));
    expectExists(run(ledger, voidPending('v2', 'p2')));
    expectCode(run(ledger, post('v2', 'p2')), 'EXISTS_WITH_DIFFERENT_FIELDS');
    expect(counters(ledger, 'a')).toEqual([6n, 0n, 0n, 0n]);
  });

  it('rejects a post or void of an id that was never a transfer', () => {
    const ledger = ledgerWith();
    expectCode(run(ledger, post('x1', 'ghost')), 'PENDING_NOT_FOUND');
    expectCode(run(ledger, voidPending('x2', 'ghost')), 'PENDING_NOT_FOUND');
  });

  it('rejects a post or void of a single-phase transfer, or of a post', () => {
    const ledger = ledgerWith(
      transfer('t1', 'a', 'b', 10n),
      transfer('p1', 'a', 'b', 10n, { pending: true }),
      post('x1', 'p1'),
    );
    expectCode(run(ledger, post('x2', 't1')), 'NOT_PENDING');
    expectCode(run(ledger, voidPending('x3', 't1')), 'NOT_PENDING');
    expectCode(run(ledger, post('x4', 'x1')), 'NOT_PENDING');
  });

  it('uses a pending transfer id that collides with nothing else for its post', () => {
    const ledger = ledgerWith(
      transfer('t1', 'a', 'b', 10n),
      transfer('p1', 'a', 'b', 10n, { pending: true }),
    );
    expectCode(run(ledger, post('t1', 'p1')), 'EXISTS_WITH_DIFFERENT_FIELDS');
    expectCode(run(ledger, post('p1', 'p1')), 'EXISTS_WITH_DIFFERENT_FIELDS');
  });

  it('refuses a new hold once the shard holds pendingOpenMax open holds', () => {
    const ledger = ledgerWith();
    class FullMap<K, V> extends Map<K, V> {
      override get size(): number {
        return limits.pendingOpenMax;
      }
    }
    const full: LedgerState = { ...ledger.state, pending: new FullMap(ledger.state.pending) };
    const context = ledger.index.context(ledger.state.lastTimestamp + 1n);
    expectCode(
      decide(transfer('p1', 'a', 'b', 1n, { pending: true }), full, context),
      'TOO_MANY_PENDING',
    );
    expectCode(
      decide(group(spec('g1', 'a', 'b', 1n, { pending: true })), full, context),
      'TOO_MANY_PENDING',
    );
    expectOk(decide(transfer('t1', 'a', 'b', 1n), full, context));
  });
});

describe('pending timeouts', () => {
  it('expires a hold once its timeout has passed, and not a nanosecond before', () => {
    const ledger = ledgerWith(transfer('p1', 'a', 'b', 10n, { pending: true, timeoutMs: 1_000 }));
    const createdAt = ledger.index.transfers.get('p1')?.timestamp ?? 0n;
    ledger.advance(1_000n * MS - 100n);
    const early = run(ledger, expire);
    expect(early).toMatchObject({ ok: true, events: [] });
    expect(ledger.state.lastTimestamp).toBeLessThan(createdAt + 1_000n * MS);
    ledger.advance(1_000n);
    expectOk(run(ledger, expire), ['PendingTransferExpired']);
    expect(counters(ledger, 'a')).toEqual([0n, 0n, 0n, 0n]);
    expect(ledger.index.transfers.get('p1')?.state).toBe('expired');
    expect(run(ledger, expire)).toMatchObject({ ok: true, events: [] });
  });

  it('rejects a post or void after expiry, whether or not the expiry event was written yet', () => {
    const ledger = ledgerWith(transfer('p1', 'a', 'b', 10n, { pending: true, timeoutMs: 1 }));
    ledger.advance(2n * MS);
    expectCode(run(ledger, post('x1', 'p1')), 'PENDING_EXPIRED');
    expectCode(run(ledger, voidPending('x2', 'p1')), 'PENDING_EXPIRED');
    expectOk(run(ledger, expire));
    expectCode(run(ledger, post('x3', 'p1')), 'PENDING_EXPIRED');
    expectCode(run(ledger, voidPending('x4', 'p1')), 'PENDING_EXPIRED');
  });

  it('expires due holds in expiry order and skips holds already resolved or without timeout', () => {
    const ledger = ledgerWith(
      transfer('late', 'a', 'b', 1n, { pending: true, timeoutMs: 30 }),
      transfer('early', 'a', 'b', 2n, { pending: true, timeoutMs: 10 }),
      transfer('posted', 'a', 'b', 3n, { pending: true, timeoutMs: 5 }),
      transfer('never', 'a', 'b', 4n, { pending: true }),
      post('x1', 'posted'),
    );
    ledger.advance(60n * MS);
    const decision = run(ledger, expire);
    expectOk(decision);
    if (decision.ok)
      expect(decision.events.map((event) => ('pendingId' in event ? event.pendingId : ''))).toEqual(
        ['early', 'late'],
      );
    expect(ledger.state.pending.has('never')).toBe(true);
    expect(counters(ledger, 'a')).toEqual([3n, 0n, 4n, 0n]);
  });

  it('lets a hold be posted right up to its deadline', () => {
    const ledger = ledgerWith(transfer('p1', 'a', 'b', 10n, { pending: true, timeoutMs: 1 }));
    ledger.advance(MS - 100n);
    expectOk(run(ledger, post('x1', 'p1')));
    ledger.advance(10n * MS);
    expect(run(ledger, expire)).toMatchObject({ ok: true, events: [] });
  });
});
