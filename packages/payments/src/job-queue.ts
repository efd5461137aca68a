// A durable queue of PSP calls to retry: a row per job in the store, so a restart picks up where
// the last process stopped. A retryable failure (timeout, 5xx, a ledger shard restarting) waits
// with jittered exponential backoff; a terminal one, or the attempt cap, parks the job as `dead`
// for an operator to see (GET /v1/psp-jobs?state=dead).
import { statement, transact, type Db } from './store.js';

export const jobLimits = {
  attemptsMax: 8,
  backoffBaseMs: 100,
  backoffCapMs: 30_000,
  batchSizeMax: 16,
} as const;

export type JobKind = 'drive' | 'payout';

export interface Job {
  readonly id: string;
  readonly kind: JobKind;
  readonly subject: string;
  readonly attempts: number;
  readonly state: 'queued' | 'done' | 'dead';
  readonly lastError: string | null;
}

export function backoffMs(options: { attempt: number; baseMs: number; capMs: number }): number {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** options.attempt);
  return Math.floor(ceiling / 2 + (Math.random() * ceiling) / 2); // "equal jitter"
}

export function enqueueJob(db: Db, job: { kind: JobKind; subject: string; atMs: number }): void {
  statement(
    db,
    `INSERT INTO psp_jobs VALUES (?, ?, ?, 0, ?, 'queued', NULL)
     ON CONFLICT (id) DO UPDATE SET state = 'queued', attempts = 0, next_at_ms = excluded.next_at_ms
     WHERE state != 'queued'`,
  ).run(`${job.kind}:${job.subject}`, job.kind, job.subject, job.atMs);
}

export function listJobs(db: Db, state: string): Job[] {
  const rows = statement(db, 'SELECT * FROM psp_jobs WHERE state = ? ORDER BY id LIMIT 1000').all(
    state,
  ) as {
    id: string;
    kind: JobKind;
    subject: string;
    attempts: number;
    state: Job['state'];
    last_error: string | null;
  }[];
  return rows.map((row) => ({ ...row, lastError: row.last_error }));
}

export type JobHandler = (job: Job) => Promise<void>;

/** Runs due jobs until stopped; `classify` says whether a failure may be retried. */
export class JobRunner {
  readonly #db: Db;
  readonly #handler: JobHandler;
  readonly #classify: (error: unknown) => 'retry' | 'terminal';
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;

  constructor(options: {
    db: Db;
    handler: JobHandler;
    classify: (error: unknown) => 'retry' | 'terminal';
  }) {
    this.#db = options.db;
    this.#handler = options.handler;
    this.#classify = options.classify;
  }

  start(intervalMs: number): void {
    this.#timer = setInterval(() => {
      this.#running ??= this.runDue().finally(() => (this.#running = undefined));
    }, intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  async runDue(nowMs = Date.now()): Promise<number> {
    const due = statement(
      this.#db,
      `SELECT * FROM psp_jobs WHERE state = 'queued' AND next_at_ms <= ? ORDER BY next_at_ms LIMIT ?`,
    ).all(nowMs, jobLimits.batchSizeMax) as (Job & { last_error: string | null })[];
    await Promise.all(due.map((job) => this.#runOne({ ...job, lastError: job.last_error })));
    return due.length;
  }

  async #runOne(job: Job): Promise<void> {
    try {
      await this.#handler(job);
      transact(this.#db, () =>
        statement(this.#db, `UPDATE psp_jobs SET state = 'done' WHERE id = ?`).run(job.id),
      );
    } catch (error) {
      const attempts = job.attempts + 1;
      const dead = this.#classify(error) === 'terminal' || attempts >= jobLimits.attemptsMax;
      const delay = backoffMs({
        attempt: attempts,
        baseMs: jobLimits.backoffBaseMs,
        capMs: jobLimits.backoffCapMs,
      });
      transact(this.#db, () =>
        statement(
          this.#db,
          `UPDATE psp_jobs SET attempts = ?, next_at_ms = ?, state = ?, last_error = ? WHERE id = ?`,
        ).run(attempts, Date.now() + delay, dead ? 'dead' : 'queued', String(error), job.id),
      );
    }
  }
}
