// Goal: the reconciliation routes start a run from a settlement file's path or text, answer its
// status and report, reuse a finished run, and refuse bad input with a typed error before any run
// starts. Method: the simulated PSP and the payments server as child processes on loopback, the
// test as an HTTP client; the ledger holds no transfer on the profile's clearing account, so
// every settled line must come back as missing in the ledger.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as h from './harness.js';

let psp: h.Process;
let server: h.Process;
let api: string;
let dir: string;

const header = 'record_id,type,payment_order_id,psp_reference,currency,gross,fee,net,settled_at';
const settlement = [
  header,
  'st_1,capture,PO-1,psp_1,USD,12.34,0.34,12.00,2026-12-06T10:15:00.000Z',
  'st_2,capture,PO-2,psp_2,USD,5.00,0.15,4.85,2026-12-06T10:16:00.000Z',
  'st_3,capture,PO-3,psp_3,USD,5.0,0.15,4.85,2026-12-06T10:16:00.000Z',
  '',
].join('\n');

beforeAll(async () => {
  dir = await h.tempDir('recon');
  const port = await h.freePort();
  psp = await h.startPsp({ webhookUrl: `http://127.0.0.1:${port}/v1/webhooks/psp/simpsp`, dir });
  server = await h.startServer({ dir, port, pspUrl: psp.url });
  api = server.url;
});

afterAll(async () => {
  expect(await server?.stop('SIGTERM')).toBe(0);
  await psp?.stop();
});

interface ReportBody {
  readonly inputs: { readonly file: string; readonly toMs: number | null };
  readonly settlement: { readonly badLineSamples: readonly { readonly line: number }[] };
  readonly breakCounts: Record<string, number>;
  readonly breaks: readonly { readonly reference: string }[];
  readonly balances: readonly unknown[];
}

const references = (report: ReportBody) => report.breaks.map((found) => found.reference).sort();

const post = (body: unknown) => h.call(`${api}/v1/reconciliations`, { body });
const get = (run: string) => h.call(`${api}/v1/reconciliations/${run}`);

describe('POST /v1/reconciliations and GET /v1/reconciliations/:run', () => {
  it('runs a file sent as text, reports its breaks and bad lines, and reuses the run', async () => {
    const started = await post({ profile: 'simulated', content: settlement });
    expect(started.status).toBe(202);
    const runId = started.body['run_id'] as string;
    expect(runId).toMatch(/^[0-9a-f]{20}$/);
    const done = await h.eventually(
      () => get(runId),
      (reply) => reply.body['status'] === 'done',
      30_000,
    );
    const report = done.body['report'] as ReportBody;
    expect(report.settlement).toMatchObject({ lines: 3, validLines: 2, badLines: 1 });
    expect(report.settlement.badLineSamples[0]?.line).toBe(4);
    expect(report.breakCounts['missing_in_ledger']).toBe(2);
    expect(references(report)).toEqual(['PO-1', 'PO-2']);
    expect(report.balances[0]).toMatchObject({ currency: 'USD', settlementTotal: '1734' });
    const again = await post({ profile: 'simulated', content: settlement });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ run_id: runId, status: 'done' });
    expect(again.body['report']).toEqual(report);
  });

  it('runs a file named by its path on the server', async () => {
    const file = join(dir, 'settlement-by-path.csv');
    await writeFile(file, settlement.replace('PO-2', 'PO-9'));
    const started = await post({ profile: 'simulated', file, to: '2026-12-07' });
    expect(started.status).toBe(202);
    const done = await h.eventually(
      () => get(started.body['run_id'] as string),
      (reply) => reply.body['status'] === 'done',
      30_000,
    );
    const report = done.body['report'] as ReportBody;
    expect(report.inputs).toMatchObject({ file, toMs: Date.UTC(2026, 11, 7) });
    expect(references(report)).toEqual(['PO-1', 'PO-9']);
  });
});

describe('the reconciliation routes refuse bad input with a typed error', () => {
  it.each([
    ['an unknown profile', { profile: 'nope', content: settlement }, 'UNKNOWN_PROFILE'],
    ['no file and no content', { profile: 'simulated' }, undefined],
    ['both a file and content', { profile: 'simulated', file: '/x', content: 'y' }, undefined],
    ['an unknown field', { profile: 'simulated', content: settlement, extra: 1 }, undefined],
    ['a missing file', { profile: 'simulated', file: '/no/such/file.csv' }, 'FILE_NOT_FOUND'],
    ['an empty file', { profile: 'simulated', content: '\n' }, 'EMPTY_FILE'],
    ['another profile', { profile: 'jsonl-minor', content: settlement }, 'PROFILE_MISMATCH'],
    ['a bad date', { profile: 'simulated', content: settlement, to: '2026-13-45' }, undefined],
  ])('refuses %s with 400 INVALID_REQUEST', async (_what, body, reason) => {
    const reply = await post(body);
    expect(reply.status).toBe(400);
    const error = reply.body['error'] as { code: string; detail: Record<string, unknown> };
    expect(error.code).toBe('INVALID_REQUEST');
    if (reason !== undefined) expect(JSON.stringify(error.detail)).toContain(reason);
  });

  it('answers a malformed run id with 400 and an unknown one with 404', async () => {
    const malformed = await get('not-a-run');
    expect(malformed.status).toBe(400);
    expect((malformed.body['error'] as { code: string }).code).toBe('INVALID_REQUEST');
    const unknown = await get('0123456789abcdef0123');
    expect(unknown.status).toBe(404);
    expect((unknown.body['error'] as { code: string }).code).toBe('RECONCILIATION_NOT_FOUND');
  });
});
