// A simulated PSP: a real HTTP server (node:http) that authorises, captures, voids, refunds and
// pays out, answers from stored responses for a repeated Idempotency-Key, signs and sends
// webhooks (retrying until they are accepted), and writes settlement files. What it does to a
// call is decided by its rules (sim-rules.ts).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { signPspPayload } from '../signing.js';
import { RuleBook, type SimOperation, type SimRule } from './sim-rules.js';
import { settlementCsv, settlementFileName, type SettlementRecord } from './settlement.js';

export interface SimulatorOptions {
  readonly port: number;
  readonly seed: number;
  readonly rules: readonly SimRule[];
  readonly webhookUrl: string;
  readonly webhookSecret: string;
  readonly settlementDir: string;
  /** The PSP's fee on captures, in basis points. */
  readonly feeBps: number;
}

interface Operation {
  readonly reference: string;
  readonly pspReference: string;
  readonly currency: string;
  readonly amount: bigint;
  status: string;
  capturedAmount: bigint;
}

interface Answer {
  readonly statusCode: number;
  readonly body: Record<string, unknown>;
}

const webhookAttemptsMax = 12;

export class SimulatedPsp {
  readonly #options: SimulatorOptions;
  readonly #rules: RuleBook;
  readonly #operations = new Map<string, Operation>(); // by pspReference
  readonly #byReference = new Map<string, string>(); // merchant reference -> pspReference
  readonly #answers = new Map<string, Answer>(); // idempotency key -> stored answer
  readonly #settlements: SettlementRecord[] = [];
  readonly #heldWebhooks = new Map<string, string[]>(); // reference -> bodies sent after capture
  readonly #counts = new Map<string, number>();
  readonly #inProgress = new Set<string>(); // idempotency keys being performed
  readonly #stopping = new AbortController(); // ends pending waits and webhook retries on close
  #sequence = 0;
  #server: Server | undefined;

  constructor(options: SimulatorOptions) {
    this.#options = options;
    this.#rules = new RuleBook({ seed: options.seed, rules: options.rules });
  }

  async listen(): Promise<number> {
    const server = createServer((request, response) => void this.#handle(request, response));
    this.#server = server;
    await new Promise<void>((resolve) => server.listen(this.#options.port, '127.0.0.1', resolve));
    const address = server.address();
    return typeof address === 'object' && address !== null ? address.port : this.#options.port;
  }

  async close(): Promise<void> {
    this.#stopping.abort();
    const server = this.#server;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #next(prefix: string): string {
    this.#sequence += 1;
    return `${prefix}_${String(this.#sequence).padStart(6, '0')}`;
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    try {
      const body = (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>;
      const answer = await this.#route(request, body);
      if (response.destroyed) return;
      response.writeHead(answer.statusCode, { 'content-type': 'application/json' });
      response.end(JSON.stringify(answer.body));
    } catch (error) {
      response.writeHead(400, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: String(error) }));
    }
  }

  async #route(request: IncomingMessage, body: Record<string, unknown>): Promise<Answer> {
    const url = new URL(request.url ?? '/', 'http://sim');
    const parts = url.pathname.split('/').filter((part) => part !== '');
    const key = request.headers['idempotency-key'];
    if (request.method === 'POST' && parts[0] === '_sim' && parts[1] === 'rules') {
      this.#rules.replace(body['rules'] as SimRule[]);
      return { statusCode: 200, body: { ok: true } };
    }
    if (request.method === 'GET' && parts[0] === '_sim' && parts[1] === 'counts') {
      return { statusCode: 200, body: Object.fromEntries(this.#counts) };
    }
    if (request.method === 'GET' && parts[1] === 'operations' && parts[2] !== undefined) {
      return this.#status(decodeURIComponent(parts[2]));
    }
    if (request.method === 'GET' && parts[1] === 'settlements' && parts[2] !== undefined) {
      return this.#settlementFile(parts[2]);
    }
    if (request.method !== 'POST' || typeof key !== 'string') {
      return { statusCode: 404, body: { error: 'not found' } };
    }
    const stored = this.#answers.get(key);
    if (stored !== undefined) return stored;
    if (this.#inProgress.has(key)) {
      return { statusCode: 409, body: { error: 'idempotent_request_in_progress' } };
    }
    const operation = operationOf(parts);
    if (operation === undefined) return { statusCode: 404, body: { error: 'not found' } };
    this.#inProgress.add(key);
    try {
      return await this.#perform({ operation, parts, body, key });
    } finally {
      this.#inProgress.delete(key);
    }
  }

  async #perform(call: {
    operation: SimOperation;
    parts: string[];
    body: Record<string, unknown>;
    key: string;
  }): Promise<Answer> {
    const existing = call.parts[2] === undefined ? undefined : this.#operations.get(call.parts[2]);
    const reference = existing?.reference ?? String(call.body['reference']);
    const amount = BigInt(String(call.body['amount'] ?? existing?.amount ?? '0'));
    const currency = existing?.currency ?? String(call.body['currency']);
    const rule = this.#rules.pick({ operation: call.operation, reference, amount, currency });
    const delayMs = rule?.delayMs ?? 5_000;
    if (rule?.action === 'timeout') {
      await sleep(delayMs, undefined, { signal: this.#stopping.signal });
      return { statusCode: 504, body: { error: 'timeout' } };
    }
    if (rule?.action === 'delay')
      await sleep(delayMs, undefined, { signal: this.#stopping.signal });
    const answer = this.#apply({ ...call, existing, reference, amount, currency, rule });
    this.#answers.set(call.key, answer);
    const countKey = `${call.operation}:${reference}`;
    this.#counts.set(countKey, (this.#counts.get(countKey) ?? 0) + 1);
    if (rule?.action === 'success_after_timeout') {
      await sleep(delayMs, undefined, { signal: this.#stopping.signal });
    }
    return answer;
  }

  #apply(call: {
    operation: SimOperation;
    existing: Operation | undefined;
    reference: string;
    amount: bigint;
    currency: string;
    rule: SimRule | undefined;
  }): Answer {
    const { rule } = call;
    if (call.operation === 'authorize' || call.operation === 'payout') {
      const pspReference = this.#next(call.operation === 'payout' ? 'po' : 'auth');
      const refused = rule?.action === 'decline' || rule?.action === 'fail';
      const status =
        call.operation === 'payout'
          ? refused
            ? 'failed'
            : 'paid'
          : refused
            ? 'declined'
            : 'authorized';
      const operation: Operation = {
        reference: call.reference,
        pspReference,
        currency: call.currency,
        amount: call.amount,
        status,
        capturedAmount: 0n,
      };
      this.#operations.set(pspReference, operation);
      this.#byReference.set(call.reference, pspReference);
      if (call.operation === 'payout' && !refused) this.#settle(operation, 'payout', -call.amount);
      this.#emit(operation, rule, refused ? 'card_declined' : undefined);
      const answerStatus = call.operation === 'payout' ? 'pending' : status;
      const reason = refused ? { reason: 'card_declined' } : {};
      return {
        statusCode: 200,
        body: { psp_reference: pspReference, status: answerStatus, ...reason },
      };
    }
    const operation = call.existing;
    if (operation === undefined) return { statusCode: 404, body: { error: 'no authorization' } };
    return this.#change(operation, call.operation, rule);
  }

  #change(operation: Operation, kind: SimOperation, rule: SimRule | undefined): Answer {
    const expected = kind === 'refund' ? 'captured' : 'authorized';
    if (operation.status !== expected) {
      return { statusCode: 409, body: { error: `operation is ${operation.status}` } };
    }
    if (kind === 'capture') {
      const percent = rule?.action === 'partial_capture' ? (rule.capturePercent ?? 50) : 100;
      operation.capturedAmount = (operation.amount * BigInt(percent)) / 100n;
      operation.status = 'captured';
      const fee = (operation.capturedAmount * BigInt(this.#options.feeBps)) / 10_000n;
      this.#settle(operation, 'capture', operation.capturedAmount, fee);
    } else if (kind === 'void') {
      operation.status = 'voided';
    } else {
      operation.status = 'refunded';
      this.#settle(operation, 'refund', -operation.capturedAmount);
    }
    this.#emit(operation, rule, undefined);
    return { statusCode: 200, body: statusBody(operation) };
  }

  #settle(operation: Operation, type: SettlementRecord['type'], gross: bigint, fee = 0n): void {
    this.#settlements.push({
      recordId: this.#next('st'),
      type,
      paymentOrderId: operation.reference,
      pspReference: operation.pspReference,
      currency: operation.currency,
      gross,
      fee,
      settledAtMs: Date.now(),
    });
  }

  #status(reference: string): Answer {
    const pspReference = this.#byReference.get(reference);
    const operation = pspReference === undefined ? undefined : this.#operations.get(pspReference);
    if (operation === undefined) return { statusCode: 404, body: { status: 'unknown' } };
    return { statusCode: 200, body: statusBody(operation) };
  }

  #settlementFile(date: string): Answer {
    const csv = settlementCsv(this.#settlements, date);
    writeFileSync(join(this.#options.settlementDir, settlementFileName(date)), csv);
    return { statusCode: 200, body: { file: settlementFileName(date), csv } };
  }

  /** Sends the webhook of an operation's new status, as the rule says. */
  #emit(operation: Operation, rule: SimRule | undefined, reason: string | undefined): void {
    const mode = rule?.webhooks ?? 'normal';
    if (mode === 'none') return;
    const body = JSON.stringify({
      id: this.#next('evt'),
      type: `${operation.pspReference.startsWith('po') ? 'payout' : 'payment'}.${operation.status}`,
      created_ms: Date.now(),
      data: { ...statusBody(operation), ...(reason === undefined ? {} : { reason }) },
    });
    if (mode === 'out_of_order' && operation.status === 'authorized') {
      this.#heldWebhooks.set(operation.reference, [body]);
      return;
    }
    const bodies = mode === 'duplicate' ? [body, body] : [body];
    bodies.push(...(this.#heldWebhooks.get(operation.reference) ?? []));
    this.#heldWebhooks.delete(operation.reference);
    void this.#deliverInOrder(bodies);
  }

  async #deliverInOrder(bodies: string[]): Promise<void> {
    for (const body of bodies) await this.#deliver(body);
  }

  async #deliver(body: string): Promise<void> {
    for (let attempt = 0; attempt < webhookAttemptsMax; attempt += 1) {
      const timestampS = Math.floor(Date.now() / 1000);
      const signature = signPspPayload({ secret: this.#options.webhookSecret, timestampS, body });
      try {
        const response = await fetch(this.#options.webhookUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'psp-signature': signature },
          body,
          signal: AbortSignal.timeout(2_000),
        });
        if (response.ok) return;
      } catch {
        // the merchant is down or slow: retry below
      }
      if (this.#stopping.signal.aborted) return;
      const waitMs = Math.min(2_000, 100 * 2 ** attempt) + this.#rules.jitterMs(50);
      await sleep(waitMs, undefined, { signal: this.#stopping.signal }).catch(() => undefined);
    }
  }
}

function operationOf(parts: readonly string[]): SimOperation | undefined {
  if (parts[1] === 'payouts' && parts.length === 2) return 'payout';
  if (parts[1] !== 'authorizations') return undefined;
  if (parts.length === 2) return 'authorize';
  const action = parts[3];
  return action === 'capture' || action === 'void' || action === 'refund' ? action : undefined;
}

function statusBody(operation: Operation): Record<string, unknown> {
  return {
    reference: operation.reference,
    psp_reference: operation.pspReference,
    status: operation.status,
    amount: operation.amount.toString(),
    captured_amount: operation.capturedAmount.toString(),
    currency: operation.currency,
  };
}
