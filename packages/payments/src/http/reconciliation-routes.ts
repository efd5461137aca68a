// Reconciliation over HTTP. POST /v1/reconciliations reconciles a PSP settlement file (a path on
// this server, or the file's text in the body) against the ledger with a profile: the file is
// checked first (an unknown profile, a missing or empty file, another profile's file: a typed
// 400 and nothing is started), then the run goes on in the background and the answer is its id
// (202), or its report when that file was reconciled the same way before (200). GET
// /v1/reconciliations/:run answers the run's status, and its report once it is done. Runs are
// recorded next to the ledger (`<ledger dir>.reconciliation`, where `shardledger reconcile`
// records its own), so a run killed with the server resumes when it is posted again.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import {
  checkSettlementFile,
  formatReport,
  lookupRun,
  reconcile,
  runIdFor,
  type ReconcileOptions,
} from '@shardledger/reconciliation';
import { isLedgerError, type Ledger } from '@shardledger/shard-router';
import { PaymentError } from '../errors.js';
import type { Services } from './app.js';
import type { RouteTable } from './openapi.js';

const isoInstant =
  '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,3})?)?(Z|[+-]\\d{2}:\\d{2}))?$';

export const reconciliationBody = {
  type: 'object',
  additionalProperties: false,
  required: ['profile'],
  properties: {
    profile: { type: 'string', minLength: 1, maxLength: 64 },
    /** A settlement file on this server. */
    file: { type: 'string', minLength: 1, maxLength: 4096 },
    /** The settlement file's text (up to the request body limit). */
    content: { type: 'string', minLength: 1 },
    /** Ledger transfers at or after this instant (a date is its midnight UTC). */
    from: { type: 'string', pattern: isoInstant },
    /** Ledger transfers before this instant; also the balance check's cut-off. */
    to: { type: 'string', pattern: isoInstant },
    reference_key: { type: 'string', minLength: 1, maxLength: 128 },
    /** The clearing account of each currency, with `{profile}` and `{currency}` filled in. */
    clearing_account_template: { type: 'string', minLength: 1, maxLength: 256 },
  },
  oneOf: [{ required: ['file'] }, { required: ['content'] }],
} as const;

export const reconciliationParams = {
  type: 'object',
  required: ['run'],
  properties: { run: { type: 'string', pattern: '^[0-9a-f]{20}$' } },
} as const;

interface ReconciliationRequest {
  readonly profile: string;
  readonly file?: string;
  readonly content?: string;
  readonly from?: string;
  readonly to?: string;
  readonly reference_key?: string;
  readonly clearing_account_template?: string;
}

/** A run started here and not finished yet, or the error it ended with. */
type RunState = { readonly status: 'running' } | { readonly status: 'failed'; error: unknown };

const ok = (body: unknown, statusCode = 200) => ({ statusCode, body, replayed: false });

/** The report as JSON values: amounts as decimal strings. */
const reportBody = (report: Parameters<typeof formatReport>[0]): unknown =>
  JSON.parse(formatReport(report, 'json'));

function instantMs(text: string | undefined, field: string): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  if (!Number.isFinite(ms) || ms < 0)
    throw new PaymentError('INVALID_REQUEST', {
      errors: [{ path: `/${field}`, message: 'not a date' }],
    });
  return ms;
}

async function workDirOf(ledger: Ledger): Promise<string> {
  return `${(await ledger.info()).dir}.reconciliation`;
}

/** The file a request names, or its content written (once, by digest) under the work dir. */
async function settlementFile(body: ReconciliationRequest, workDir: string): Promise<string> {
  if (body.content === undefined) return body.file!;
  const digest = createHash('sha256').update(body.content).digest('hex');
  const dir = join(workDir, 'uploads');
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${digest}.settlement`);
  await writeFile(path, body.content);
  return path;
}

/** The run a request asks for, checked: its options and its id (nothing is started yet). */
async function checkedRun(
  body: ReconciliationRequest,
  where: { ledger: Ledger; workDir: string },
): Promise<{ options: ReconcileOptions; runId: string }> {
  const { ledger, workDir } = where;
  const fromMs = instantMs(body.from, 'from');
  const toMs = instantMs(body.to, 'to');
  const file = await settlementFile(body, workDir);
  const options: ReconcileOptions = {
    ledger,
    file,
    profile: body.profile,
    workDir,
    ...(fromMs === undefined ? {} : { fromMs }),
    ...(toMs === undefined ? {} : { toMs }),
    ...(body.reference_key === undefined ? {} : { referenceKey: body.reference_key }),
    ...(body.clearing_account_template === undefined
      ? {}
      : { clearingAccountTemplate: body.clearing_account_template }),
  };
  await checkSettlementFile(file, body.profile);
  return { options, runId: await runIdFor(options) };
}

export function reconciliationRoutes(
  app: FastifyInstance,
  services: Services,
  table: RouteTable,
): void {
  const { ledger } = services.service;
  const runs = new Map<string, RunState>();
  table.add(
    app,
    {
      method: 'POST',
      url: '/v1/reconciliations',
      summary: 'Reconcile a settlement file against the ledger (runs in the background)',
      schema: { body: reconciliationBody },
    },
    async (request) => {
      const body = request.body as ReconciliationRequest;
      const workDir = await workDirOf(ledger);
      const { options, runId } = await checkedRun(body, { ledger, workDir }).catch(
        (error: unknown) => {
          // The reconciliation package's INVALID_ARGUMENT names why in `detail.reason`
          // (UNKNOWN_PROFILE, FILE_NOT_FOUND, EMPTY_FILE, PROFILE_MISMATCH): kept in the answer.
          if (!isLedgerError(error, 'INVALID_ARGUMENT')) throw error;
          throw new PaymentError('INVALID_REQUEST', { ...error.detail, message: error.message });
        },
      );
      const found = await lookupRun(workDir, runId);
      if (found?.status === 'done')
        return ok({ run_id: runId, status: 'done', report: reportBody(found.report) });
      if (runs.get(runId)?.status !== 'running') {
        runs.set(runId, { status: 'running' });
        // One thread: the server's cores serve its requests; a run of a large file is better
        // started by `shardledger reconcile`, which may take a pool.
        void reconcile(options).then(
          () => runs.delete(runId),
          (error: unknown) => runs.set(runId, { status: 'failed', error }),
        );
      }
      return ok({ run_id: runId, status: 'running' }, 202);
    },
  );
  table.add(
    app,
    {
      method: 'GET',
      url: '/v1/reconciliations/:run',
      summary: "A reconciliation run's status, and its report once done",
      schema: { params: reconciliationParams },
    },
    async (request) => {
      const runId = (request.params as { run: string }).run;
      const found = await lookupRun(await workDirOf(ledger), runId);
      if (found?.status === 'done')
        return ok({ run_id: runId, status: 'done', report: reportBody(found.report) });
      const state = runs.get(runId);
      if (state?.status === 'failed') {
        const { error } = state;
        const detail = isLedgerError(error)
          ? { code: error.code, message: error.message, ...error.detail }
          : { message: String(error) };
        return ok({ run_id: runId, status: 'failed', error: detail });
      }
      if (state?.status === 'running') return ok({ run_id: runId, status: 'running' });
      // Recorded but not running here: stopped before its end; posting it again resumes it.
      if (found?.status === 'started') return ok({ run_id: runId, status: 'stopped' });
      throw new PaymentError('RECONCILIATION_NOT_FOUND', { run_id: runId });
    },
  );
}
