// Durable payment state in one SQLite file next to the ledger: payments and their orders,
// stored Idempotency-Key responses, webhook ids already applied, the PSP call queue, payouts,
// and the outbox of events for webhook endpoints. A status change and its outbox message are
// written in one transaction, so no event is lost in a crash.
//
// Group commit: the writes of one turn of the event loop share one SQLite transaction (each
// write still all-or-nothing, as a savepoint in it), committed before the next turn. A commit
// per write cost more than the writes (a WAL frame per page touched, on the event loop's thread):
// concurrent payments now share one. A crash loses at most the turn's writes, as a power loss
// with synchronous NORMAL could before: every step after a lost write is replayed with the same
// PSP keys and ledger transfer ids. What must not be lost once it is told, an HTTP answer, waits
// for storeDurable().
import Database from 'better-sqlite3';
import type { OrderState, OrderStatus, PaymentState, PaymentStatus } from './payment-machine.js';

const schema = `
CREATE TABLE IF NOT EXISTS payments (
  id TEXT PRIMARY KEY, buyer_id TEXT, connector TEXT NOT NULL, currency TEXT NOT NULL,
  capture_method TEXT NOT NULL, status TEXT NOT NULL, failure_reason TEXT,
  request_hash TEXT NOT NULL, expires_at_ms INTEGER NOT NULL, ledger_synced INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS payments_open ON payments (status, expires_at_ms);
CREATE TABLE IF NOT EXISTS payment_orders (
  id TEXT PRIMARY KEY, payment_id TEXT NOT NULL, position INTEGER NOT NULL,
  seller_account TEXT NOT NULL, amount TEXT NOT NULL, fee TEXT NOT NULL,
  status TEXT NOT NULL, captured_amount TEXT NOT NULL, psp_reference TEXT);
CREATE INDEX IF NOT EXISTS orders_by_payment ON payment_orders (payment_id, position);
CREATE TABLE IF NOT EXISTS idempotency_keys (
  key TEXT PRIMARY KEY, request_hash TEXT NOT NULL, status_code INTEGER,
  response TEXT, created_at_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS webhooks_in (
  connector TEXT NOT NULL, event_id TEXT NOT NULL, received_at_ms INTEGER NOT NULL,
  PRIMARY KEY (connector, event_id));
CREATE TABLE IF NOT EXISTS psp_jobs (
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, subject TEXT NOT NULL, attempts INTEGER NOT NULL,
  next_at_ms INTEGER NOT NULL, state TEXT NOT NULL, last_error TEXT);
CREATE INDEX IF NOT EXISTS psp_jobs_due ON psp_jobs (state, next_at_ms);
CREATE TABLE IF NOT EXISTS payouts (
  id TEXT PRIMARY KEY, connector TEXT NOT NULL, seller_account TEXT NOT NULL,
  amount TEXT NOT NULL, fee TEXT NOT NULL, currency TEXT NOT NULL, status TEXT NOT NULL,
  psp_reference TEXT, request_hash TEXT NOT NULL, ledger_synced INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS endpoints (
  id TEXT PRIMARY KEY, url TEXT NOT NULL, secrets TEXT NOT NULL, event_types TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
  id TEXT PRIMARY KEY, type TEXT NOT NULL, payload TEXT NOT NULL, created_at_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL, endpoint_id TEXT NOT NULL,
  attempts INTEGER NOT NULL, next_at_ms INTEGER NOT NULL, state TEXT NOT NULL,
  last_status INTEGER, UNIQUE (message_id, endpoint_id));
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (state, next_at_ms);
CREATE TABLE IF NOT EXISTS delivery_attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT, delivery_id INTEGER NOT NULL, attempt INTEGER NOT NULL,
  at_ms INTEGER NOT NULL, status_code INTEGER, error TEXT);
CREATE INDEX IF NOT EXISTS attempts_by_delivery ON delivery_attempts (delivery_id, id);
`;

export interface PaymentRecord extends PaymentState {
  readonly buyerId: string | null;
  readonly connector: string;
  readonly currency: string;
  readonly captureMethod: 'automatic' | 'manual';
  readonly requestHash: string;
  readonly expiresAtMs: number;
  readonly ledgerSynced: boolean;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
  readonly orders: readonly OrderRecord[];
}

export interface OrderRecord extends OrderState {
  readonly sellerAccount: string;
  readonly fee: bigint;
}

interface PaymentRow {
  id: string;
  buyer_id: string | null;
  connector: string;
  currency: string;
  capture_method: 'automatic' | 'manual';
  status: PaymentStatus;
  failure_reason: string | null;
  request_hash: string;
  expires_at_ms: number;
  ledger_synced: number;
  created_at_ms: number;
  updated_at_ms: number;
}

interface OrderRow {
  id: string;
  seller_account: string;
  amount: string;
  fee: string;
  status: OrderStatus;
  captured_amount: string;
  psp_reference: string | null;
}

export interface OutboxMessage {
  readonly id: string;
  readonly type: string;
  readonly payload: unknown;
}

export type Db = Database.Database;

/** Each SQL text is compiled once per store: preparing costs more than running most of these. */
const statements = new WeakMap<Db, Map<string, Database.Statement>>();

export function statement(db: Db, sql: string): Database.Statement {
  let cache = statements.get(db);
  if (cache === undefined) {
    cache = new Map();
    statements.set(db, cache);
  }
  let compiled = cache.get(sql);
  if (compiled === undefined) {
    compiled = db.prepare(sql);
    cache.set(sql, compiled);
  }
  return compiled;
}

interface Turn {
  readonly durable: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** The transaction of the current turn, per store, while one is open. */
const openTurns = new WeakMap<Db, Turn>();
/** A store whose commit failed: it takes no more writes (the process must restart, and recovery
 * replays what was lost). */
const failedStores = new WeakMap<Db, unknown>();

function beginTurn(db: Db): void {
  statement(db, 'BEGIN').run();
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const durable = new Promise<void>((done, fail) => {
    resolve = done;
    reject = fail;
  });
  durable.catch(() => undefined);
  openTurns.set(db, { durable, resolve, reject });
  setImmediate(() => commitTurn(db));
}

function commitTurn(db: Db): void {
  const turn = openTurns.get(db);
  if (turn === undefined) return;
  openTurns.delete(db);
  try {
    statement(db, 'COMMIT').run();
    turn.resolve();
  } catch (error) {
    failedStores.set(db, error);
    if (db.inTransaction) db.exec('ROLLBACK');
    turn.reject(error);
  }
}

/** Runs `work` as one all-or-nothing write in this turn's transaction (opened by the first
 * write of the turn), and returns what it returns: inside a savepoint, undone if `work` throws.
 * The savepoint's statements are compiled once (better-sqlite3's db.transaction(work) builds
 * four wrapper functions per call: about 5 µs, 11% of the event loop's thread in the in-process
 * payments bench). */
export function transact<T>(db: Db, work: () => T): T {
  if (failedStores.has(db)) throw failedStores.get(db);
  if (!openTurns.has(db) && !db.inTransaction) beginTurn(db);
  statement(db, 'SAVEPOINT write').run();
  let result: T;
  try {
    result = work();
  } catch (error) {
    // Undone, then the savepoint itself dropped; the turn's transaction goes on.
    if (db.inTransaction) {
      statement(db, 'ROLLBACK TO write').run();
      statement(db, 'RELEASE write').run();
    }
    throw error;
  }
  statement(db, 'RELEASE write').run();
  return result;
}

/** Resolves once every write made so far is committed; rejects if its commit failed. */
export function storeDurable(db: Db): Promise<void> {
  if (failedStores.has(db)) return Promise.reject(failedStores.get(db));
  return openTurns.get(db)?.durable ?? Promise.resolve();
}

/** Commits the open turn, then closes the store. */
export function closeStore(db: Db): void {
  commitTurn(db);
  db.close();
}

/** Opens (or creates) the store. WAL with synchronous NORMAL: a committed transaction survives
 * a process crash; a power loss may drop the last ones, never corrupts. That is enough here
 * because the store only ever trails the strict-durability ledger and the PSP: every step after
 * a lost status is replayed with the same PSP keys and ledger transfer ids, so it lands once.
 * (FULL costs an fsync per commit on the event loop's thread: about 6 ms each measured here.) */
export function openStore(path: string): Db {
  const db = new Database(path, { fileMustExist: false, timeout: 5_000 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.exec(schema);
  return db;
}

function orderFromRow(row: OrderRow): OrderRecord {
  return {
    id: row.id,
    sellerAccount: row.seller_account,
    amount: BigInt(row.amount),
    fee: BigInt(row.fee),
    status: row.status,
    capturedAmount: BigInt(row.captured_amount),
    pspReference: row.psp_reference,
  };
}

export function readPayment(db: Db, id: string): PaymentRecord | undefined {
  const row = statement(db, 'SELECT * FROM payments WHERE id = ?').get(id) as
    PaymentRow | undefined;
  if (row === undefined) return undefined;
  const orders = statement(
    db,
    'SELECT * FROM payment_orders WHERE payment_id = ? ORDER BY position',
  ).all(id) as OrderRow[];
  return {
    id: row.id,
    buyerId: row.buyer_id,
    connector: row.connector,
    currency: row.currency,
    captureMethod: row.capture_method,
    status: row.status,
    failureReason: row.failure_reason,
    requestHash: row.request_hash,
    expiresAtMs: row.expires_at_ms,
    ledgerSynced: row.ledger_synced === 1,
    createdAtMs: row.created_at_ms,
    updatedAtMs: row.updated_at_ms,
    orders: orders.map(orderFromRow),
  };
}

export function paymentIdOfOrder(db: Db, orderId: string): string | undefined {
  const row = statement(db, 'SELECT payment_id FROM payment_orders WHERE id = ?').get(orderId) as
    { payment_id: string } | undefined;
  return row?.payment_id;
}

/** Inserts a new payment and its orders (NOT_STARTED), in the caller's transaction. */
export function insertPayment(db: Db, payment: PaymentRecord): void {
  statement(
    db,
    `INSERT INTO payments VALUES (@id, @buyerId, @connector, @currency, @captureMethod, @status,
     NULL, @requestHash, @expiresAtMs, 1, @createdAtMs, @updatedAtMs)`,
  ).run({ ...payment, orders: undefined, ledgerSynced: undefined, failureReason: undefined });
  const insertOrder = statement(
    db,
    `INSERT INTO payment_orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
  );
  payment.orders.forEach((order, position) => {
    insertOrder.run(
      order.id,
      payment.id,
      position,
      order.sellerAccount,
      order.amount.toString(),
      order.fee.toString(),
      order.status,
      '0',
    );
  });
}

/** Writes an evolved payment: its status, its orders, and whether the ledger has caught up. */
export function writePayment(
  db: Db,
  next: PaymentState,
  options: { nowMs: number; statusChanged: boolean },
): void {
  // Only a new status asks something new of the ledger; an order-level change does not.
  statement(
    db,
    `UPDATE payments SET status = ?, failure_reason = ?, updated_at_ms = ?,
     ledger_synced = CASE WHEN ? THEN 0 ELSE ledger_synced END WHERE id = ?`,
  ).run(next.status, next.failureReason, options.nowMs, options.statusChanged ? 1 : 0, next.id);
  const update = statement(
    db,
    `UPDATE payment_orders SET status = ?, captured_amount = ?, psp_reference = ? WHERE id = ?`,
  );
  for (const order of next.orders) {
    update.run(order.status, order.capturedAmount.toString(), order.pspReference, order.id);
  }
}

export function markLedgerSynced(db: Db, table: 'payments' | 'payouts', id: string): void {
  transact(db, () => statement(db, `UPDATE ${table} SET ledger_synced = 1 WHERE id = ?`).run(id));
}

export function unsyncedIds(db: Db, table: 'payments' | 'payouts'): string[] {
  const rows = statement(db, `SELECT id FROM ${table} WHERE ledger_synced = 0`).all() as {
    id: string;
  }[];
  return rows.map((row) => row.id);
}

export function openPaymentIds(db: Db): string[] {
  const rows = statement(
    db,
    `SELECT id FROM payments WHERE status IN ('NOT_STARTED', 'EXECUTING')`,
  ).all() as { id: string }[];
  return rows.map((row) => row.id);
}

export function expiredPaymentIds(db: Db, nowMs: number): string[] {
  const rows = statement(
    db,
    `SELECT id FROM payments WHERE status IN ('NOT_STARTED', 'EXECUTING') AND expires_at_ms <= ?`,
  ).all(nowMs) as { id: string }[];
  return rows.map((row) => row.id);
}

/** Records an event for webhook endpoints and fans it out to the endpoints that want it, in
 * the caller's transaction. */
export function appendOutbox(db: Db, message: OutboxMessage, nowMs: number): void {
  const inserted = statement(db, 'INSERT OR IGNORE INTO outbox VALUES (?, ?, ?, ?)').run(
    message.id,
    message.type,
    JSON.stringify(message.payload),
    nowMs,
  );
  if (inserted.changes === 0) return;
  const endpoints = statement(db, 'SELECT id, event_types FROM endpoints').all() as {
    id: string;
    event_types: string;
  }[];
  const insert = statement(
    db,
    `INSERT OR IGNORE INTO deliveries (message_id, endpoint_id, attempts, next_at_ms, state)
     VALUES (?, ?, 0, ?, 'pending')`,
  );
  for (const endpoint of endpoints) {
    const types = JSON.parse(endpoint.event_types) as string[];
    if (types.length === 0 || types.includes(message.type)) {
      insert.run(message.id, endpoint.id, nowMs);
    }
  }
}

/** Remembers a webhook id; false when it was already applied (a duplicate). */
export function rememberWebhook(
  db: Db,
  event: { connector: string; eventId: string; nowMs: number },
): boolean {
  const result = statement(db, 'INSERT OR IGNORE INTO webhooks_in VALUES (?, ?, ?)').run(
    event.connector,
    event.eventId,
    event.nowMs,
  );
  return result.changes === 1;
}
