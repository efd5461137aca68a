// Webhook signatures. In: the PSP signs `<timestamp>.<raw body>` with HMAC-SHA256 and sends
// `t=<unix seconds>,v1=<hex>`; we check it in constant time within a timestamp tolerance. Out:
// Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature `v1,<base64>`), one
// signature per live secret so endpoints can rotate secrets without a gap.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { PaymentError } from './errors.js';

export const webhookToleranceMs = 5 * 60_000;

export function signPspPayload(options: { secret: string; timestampS: number; body: string }) {
  const mac = createHmac('sha256', options.secret)
    .update(`${options.timestampS}.${options.body}`)
    .digest('hex');
  return `t=${options.timestampS},v1=${mac}`;
}

export function verifyPspSignature(options: {
  secret: string;
  header: unknown;
  body: string;
  nowMs: number;
  toleranceMs?: number;
}): void {
  if (typeof options.header !== 'string') throw new PaymentError('WEBHOOK_SIGNATURE_INVALID');
  const parts = new Map(
    options.header.split(',').map((part) => {
      const at = part.indexOf('=');
      return [part.slice(0, at), part.slice(at + 1)] as const;
    }),
  );
  const timestampS = Number.parseInt(parts.get('t') ?? '', 10);
  const given = parts.get('v1') ?? '';
  if (!Number.isSafeInteger(timestampS) || !/^[0-9a-f]{64}$/.test(given)) {
    throw new PaymentError('WEBHOOK_SIGNATURE_INVALID');
  }
  const expected = createHmac('sha256', options.secret)
    .update(`${timestampS}.${options.body}`)
    .digest();
  if (!timingSafeEqual(expected, Buffer.from(given, 'hex'))) {
    throw new PaymentError('WEBHOOK_SIGNATURE_INVALID');
  }
  const skewMs = Math.abs(options.nowMs - timestampS * 1000);
  if (skewMs > (options.toleranceMs ?? webhookToleranceMs)) {
    throw new PaymentError('WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE', { skewMs });
  }
}

/** A new endpoint secret in the Standard Webhooks form: `whsec_` and 32 random bytes, base64. */
export function newEndpointSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

function secretKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
}

/** The Standard Webhooks headers for one message, signed with every live secret. */
export function standardWebhookHeaders(options: {
  messageId: string;
  timestampS: number;
  body: string;
  secrets: readonly string[];
}): Record<string, string> {
  const signed = `${options.messageId}.${options.timestampS}.${options.body}`;
  const signatures = options.secrets.map(
    (secret) => `v1,${createHmac('sha256', secretKey(secret)).update(signed).digest('base64')}`,
  );
  return {
    'content-type': 'application/json',
    'webhook-id': options.messageId,
    'webhook-timestamp': String(options.timestampS),
    'webhook-signature': signatures.join(' '),
  };
}

/** Checks Standard Webhooks headers as a receiver would: true when one signature matches. */
export function verifyStandardWebhook(options: {
  headers: Record<string, string | undefined>;
  body: string;
  secret: string;
}): boolean {
  const id = options.headers['webhook-id'];
  const timestamp = options.headers['webhook-timestamp'];
  const signatures = options.headers['webhook-signature'];
  if (id === undefined || timestamp === undefined || signatures === undefined) return false;
  const expected = createHmac('sha256', secretKey(options.secret))
    .update(`${id}.${timestamp}.${options.body}`)
    .digest();
  return signatures.split(' ').some((entry) => {
    const given = Buffer.from(entry.replace(/^v1,/, ''), 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
