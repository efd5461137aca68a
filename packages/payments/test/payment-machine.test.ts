// Goal: the payment state machine moves forward only and names the right ledger steps; the
// settlement lines and webhook signatures have their exact shapes. Method: pure calls.
import { describe, expect, it } from 'vitest';
import {
  evolvePayment,
  ledgerStepsFor,
  type PaymentEvent,
  type PaymentState,
} from '../src/index.js';
import {
  settlementLine,
  signPspPayload,
  verifyPspSignature,
  standardWebhookHeaders,
} from '../src/internals.js';
import { verifyStandardWebhook } from '../src/index.js';

const start: PaymentState = {
  id: 'c-1',
  status: 'NOT_STARTED',
  failureReason: null,
  orders: ['a', 'b'].map((id) => ({
    id,
    amount: 1_000n,
    status: 'none',
    capturedAmount: 0n,
    pspReference: null,
  })),
};
const run = (events: PaymentEvent[], from = start) => events.reduce(evolvePayment, from);
const authorized = (orderId: string): PaymentEvent => ({
  type: 'authorized',
  orderId,
  pspReference: `p-${orderId}`,
});
const captured = (orderId: string, amount = 1_000n): PaymentEvent => ({
  type: 'captured',
  orderId,
  amount,
  pspReference: `p-${orderId}`,
});

describe('the payment state machine', () => {
  it('succeeds once every order is captured, and ignores a late authorisation', () => {
    const state = run([
      { type: 'started' },
      authorized('a'),
      captured('a'),
      captured('b'),
      authorized('b'),
    ]);
    expect(state.status).toBe('SUCCESS');
    expect(state.orders.map((order) => order.status)).toEqual(['captured', 'captured']);
    expect(ledgerStepsFor(state.status)).toEqual(['hold', 'post']);
  });

  it('returns the same state for a duplicate event', () => {
    const once = run([{ type: 'started' }, authorized('a')]);
    expect(evolvePayment(once, authorized('a'))).toBe(once);
  });

  it('fails the whole payment when one order is declined, and keeps it failed', () => {
    const failed = run([
      { type: 'started' },
      authorized('a'),
      { type: 'declined', orderId: 'b', reason: 'no' },
    ]);
    expect([failed.status, failed.failureReason]).toEqual(['FAILED', 'no']);
    expect(run([captured('a'), captured('b')], failed).status).toBe('FAILED');
    expect(ledgerStepsFor('FAILED')).toEqual(['void']);
  });

  it('expires an open payment but never a successful one', () => {
    expect(run([{ type: 'started' }, { type: 'expired' }]).status).toBe('EXPIRED');
    const paid = run([{ type: 'started' }, captured('a'), captured('b')]);
    expect(evolvePayment(paid, { type: 'expired' })).toBe(paid);
  });

  it('refunds only a successful payment, once every order is refunded', () => {
    const paid = run([{ type: 'started' }, captured('a'), captured('b')]);
    expect(run([{ type: 'refunded', orderId: 'a' }], paid).status).toBe('SUCCESS');
    const refunded = run(
      [
        { type: 'refunded', orderId: 'a' },
        { type: 'refunded', orderId: 'b' },
      ],
      paid,
    );
    expect(refunded.status).toBe('REFUNDED');
    expect(ledgerStepsFor('REFUNDED')).toEqual(['hold', 'post', 'reverse']);
  });

  it('refuses a capture above the authorised amount as a broken invariant', () => {
    expect(() => run([{ type: 'started' }, captured('a', 1_001n)])).toThrow(/exceeds/);
  });
});

describe('settlement lines and signatures', () => {
  it('writes major units at the currency scale with net = gross - fee', () => {
    const base = {
      recordId: 'st_1',
      paymentOrderId: 'o-1',
      pspReference: 'p-1',
      settledAtMs: Date.UTC(2026, 11, 6, 10, 15),
    };
    expect(
      settlementLine({ ...base, type: 'capture', currency: 'KWD', gross: 1_500n, fee: 45n }),
    ).toBe('st_1,capture,o-1,p-1,KWD,1.500,0.045,1.455,2026-12-06T10:15:00.000Z');
    expect(
      settlementLine({ ...base, type: 'refund', currency: 'JPY', gross: -1_500n, fee: 0n }),
    ).toBe('st_1,refund,o-1,p-1,JPY,-1500,0,-1500,2026-12-06T10:15:00.000Z');
  });

  it('accepts a PSP signature only with the right secret and a fresh timestamp', () => {
    const body = '{"id":"evt_1"}';
    const header = signPspPayload({ secret: 's', timestampS: 1_000, body });
    expect(() => verifyPspSignature({ secret: 's', header, body, nowMs: 1_000_000 })).not.toThrow();
    expect(() => verifyPspSignature({ secret: 't', header, body, nowMs: 1_000_000 })).toThrow(
      /SIGNATURE/,
    );
    expect(() =>
      verifyPspSignature({ secret: 's', header, body: `${body} `, nowMs: 1_000_000 }),
    ).toThrow(/SIGNATURE/);
    expect(() => verifyPspSignature({ secret: 's', header, body, nowMs: 2_000_000 })).toThrow(
      /TOLERANCE/,
    );
  });

  it('signs outgoing webhooks with every live secret, so either one verifies', () => {
    const [older, newer] = [
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      'whsec_dGVzdC1zZWNyZXQtbnVtYmVyLXR3bw==',
    ];
    const body = '{"type":"payment.success"}';
    const headers = standardWebhookHeaders({
      messageId: 'msg_1',
      timestampS: 1_700_000_000,
      body,
      secrets: [newer!, older!],
    });
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(verifyStandardWebhook({ headers, body, secret: older! })).toBe(true);
    expect(verifyStandardWebhook({ headers, body, secret: newer! })).toBe(true);
    expect(verifyStandardWebhook({ headers, body: '{}', secret: older! })).toBe(false);
  });

  it('matches the Standard Webhooks example signature', () => {
    const headers = standardWebhookHeaders({
      messageId: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      timestampS: 1_614_265_330,
      body: '{"test": 2432232314}',
      secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    });
    expect(headers['webhook-signature']).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });
});
