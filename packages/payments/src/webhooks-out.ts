// Webhooks out: endpoints (url, an event filter, up to two live secrets), and the dispatcher
// that delivers the outbox. Each delivery is signed the Standard Webhooks way; a 2xx ends it;
// a 4xx other than 408 and 429 is terminal; anything else is retried with jittered exponential
// backoff until the attempt cap, then it lands in the dead-letter queue, where it can be listed
// and replayed. Every attempt is logged.
import { randomUUID } from 'node:crypto';
import { PaymentError } from './errors.js';
import { backoffMs } from './job-queue.js';
import { newEndpointSecret, standardWebhookHeaders } from './signing.js';
import { statement, transact, type Db } from './store.js';

export const deliveryLimits = {
  attemptsMax: 10,
  backoffBaseMs: 200,
  backoffCapMs: 60_000,
  timeoutMs: 5_000,
  batchSizeMax: 32,
  secretsLive: 2,
} as const;

export interface Endpoint {
  readonly id: string;
  readonly url: string;
  readonly eventTypes: readonly string[];
  readonly secrets: readonly string[];
}

export interface Delivery {
  readonly id: number;
  readonly messageId: string;
  readonly endpointId: string;
  readonly attempts: number;
  readonly state: 'pending' | 'delivered' | 'dead';
  readonly lastStatus: number | null;
}

interface EndpointRow {
  id: string;
  url: string;
  secrets: string;
  event_types: string;
}

interface DeliveryRow {
  id: number;
  message_id: string;
  endpoint_id: string;
  attempts: number;
  state: Delivery['state'];
  last_status: number | null;
}

function endpointOf(row: EndpointRow): Endpoint {
  return {
    id: row.id,
    url: row.url,
    eventTypes: JSON.parse(row.event_types) as string[],
    secrets: JSON.parse(row.secrets) as string[],
  };
}

function deliveryOf(row: DeliveryRow): Delivery {
  return {
    id: row.id,
    messageId: row.message_id,
    endpointId: row.endpoint_id,
    attempts: row.attempts,
    state: row.state,
    lastStatus: row.last_status,
  };
}

export class Endpoints {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  create(input: { url: string; eventTypes: readonly string[]; secret?: string }): Endpoint {
    const endpoint = {
      id: `ep_${randomUUID()}`,
      url: input.url,
      eventTypes: input.eventTypes,
      secrets: [input.secret ?? newEndpointSecret()],
    };
    statement(this.#db, 'INSERT INTO endpoints VALUES (?, ?, ?, ?, ?)').run(
      endpoint.id,
      endpoint.url,
      JSON.stringify(endpoint.secrets),
      JSON.stringify(endpoint.eventTypes),
      Date.now(),
    );
    return endpoint;
  }

  get(id: string): Endpoint {
    const row = statement(this.#db, 'SELECT * FROM endpoints WHERE id = ?').get(id) as
      EndpointRow | undefined;
    if (row === undefined) throw new PaymentError('ENDPOINT_NOT_FOUND', { id });
    return endpointOf(row);
  }

  list(): Endpoint[] {
    return (statement(this.#db, 'SELECT * FROM endpoints ORDER BY id').all() as EndpointRow[]).map(
      endpointOf,
    );
  }

  delete(id: string): void {
    this.get(id);
    statement(this.#db, 'DELETE FROM endpoints WHERE id = ?').run(id);
  }

  /** A new secret signs alongside the newest old one; older ones stop. */
  rotateSecret(id: string, secret?: string): Endpoint {
    const endpoint = this.get(id);
    const secrets = [secret ?? newEndpointSecret(), ...endpoint.secrets].slice(
      0,
      deliveryLimits.secretsLive,
    );
    statement(this.#db, 'UPDATE endpoints SET secrets = ? WHERE id = ?').run(
      JSON.stringify(secrets),
      id,
    );
    return { ...endpoint, secrets };
  }

  deliveries(state: Delivery['state']): Delivery[] {
    const rows = statement(
      this.#db,
      'SELECT * FROM deliveries WHERE state = ? ORDER BY id LIMIT 1000',
    ).all(state) as DeliveryRow[];
    return rows.map(deliveryOf);
  }

  attempts(deliveryId: number) {
    this.#delivery(deliveryId);
    return statement(
      this.#db,
      'SELECT attempt, at_ms, status_code, error FROM delivery_attempts WHERE delivery_id = ? ORDER BY id',
    ).all(deliveryId) as {
      attempt: number;
      at_ms: number;
      status_code: number | null;
      error: string | null;
    }[];
  }

  #delivery(id: number): Delivery {
    const row = statement(this.#db, 'SELECT * FROM deliveries WHERE id = ?').get(id) as
      DeliveryRow | undefined;
    if (row === undefined) throw new PaymentError('DELIVERY_NOT_FOUND', { id });
    return deliveryOf(row);
  }

  /** Sends a dead delivery again, from a fresh attempt count. */
  replay(id: number): Delivery {
    this.#delivery(id);
    statement(
      this.#db,
      `UPDATE deliveries SET state = 'pending', attempts = 0, next_at_ms = ? WHERE id = ?`,
    ).run(Date.now(), id);
    return this.#delivery(id);
  }
}

type Outcome = { statusCode: number | null; error: string | null };

function verdict(outcome: Outcome): 'delivered' | 'retry' | 'dead' {
  const code = outcome.statusCode;
  if (code !== null && code >= 200 && code < 300) return 'delivered';
  if (code !== null && code >= 400 && code < 500 && code !== 408 && code !== 429) return 'dead';
  return 'retry';
}

export class WebhookDispatcher {
  readonly #db: Db;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;

  constructor(db: Db) {
    this.#db = db;
  }

  start(intervalMs: number): void {
    this.#timer = setInterval(() => {
      this.#running ??= this.deliverDue().finally(() => (this.#running = undefined));
    }, intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  async deliverDue(nowMs = Date.now()): Promise<number> {
    const due = statement(
      this.#db,
      `SELECT d.id, d.attempts, d.message_id, o.type, o.payload, o.created_at_ms, e.url, e.secrets
         FROM deliveries d JOIN outbox o ON o.id = d.message_id JOIN endpoints e ON e.id = d.endpoint_id
         WHERE d.state = 'pending' AND d.next_at_ms <= ? ORDER BY d.next_at_ms LIMIT ?`,
    ).all(nowMs, deliveryLimits.batchSizeMax) as {
      id: number;
      attempts: number;
      message_id: string;
      type: string;
      payload: string;
      created_at_ms: number;
      url: string;
      secrets: string;
    }[];
    await Promise.all(due.map((row) => this.#deliverOne(row)));
    return due.length;
  }

  async #deliverOne(row: {
    id: number;
    attempts: number;
    message_id: string;
    type: string;
    payload: string;
    created_at_ms: number;
    url: string;
    secrets: string;
  }): Promise<void> {
    const body = JSON.stringify({
      type: row.type,
      timestamp: new Date(row.created_at_ms).toISOString(),
      data: JSON.parse(row.payload) as unknown,
    });
    const headers = standardWebhookHeaders({
      messageId: row.message_id,
      timestampS: Math.floor(Date.now() / 1000),
      body,
      secrets: JSON.parse(row.secrets) as string[],
    });
    let outcome: Outcome;
    try {
      const response = await fetch(row.url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(deliveryLimits.timeoutMs),
      });
      outcome = { statusCode: response.status, error: null };
    } catch (error) {
      outcome = { statusCode: null, error: String(error) };
    }
    this.#record(row, outcome);
  }

  #record(row: { id: number; attempts: number }, outcome: Outcome): void {
    const attempt = row.attempts + 1;
    let state = verdict(outcome);
    if (state === 'retry' && attempt >= deliveryLimits.attemptsMax) state = 'dead';
    const delay = backoffMs({
      attempt,
      baseMs: deliveryLimits.backoffBaseMs,
      capMs: deliveryLimits.backoffCapMs,
    });
    transact(this.#db, () => {
      statement(
        this.#db,
        'INSERT INTO delivery_attempts (delivery_id, attempt, at_ms, status_code, error) VALUES (?, ?, ?, ?, ?)',
      ).run(row.id, attempt, Date.now(), outcome.statusCode, outcome.error);
      statement(
        this.#db,
        'UPDATE deliveries SET attempts = ?, state = ?, next_at_ms = ?, last_status = ? WHERE id = ?',
      ).run(
        attempt,
        state === 'retry' ? 'pending' : state,
        Date.now() + delay,
        outcome.statusCode,
        row.id,
      );
    });
  }
}
