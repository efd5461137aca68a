// Resolving breaks (the lifecycle is described in resolutions.ts): by id, or every break an
// auto-resolution rule classified `auto`. Batch first: one result per break asked for, in order.

import { limits, type Ledger, type TransferInput } from '@shardledger/shard-router';
import { accountIdFor, suspenseAccountTemplateDefault } from './accounts.js';
import { adjustmentKeys } from './ledger-source.js';
import { adjustmentTransferId, readResolution, writeResolution } from './resolutions.js';
import type { Report, ReportBreak } from './run-types.js';

export const resolveStatuses = ['resolved', 'already_resolved', 'not_found', 'rejected'] as const;
export type ResolveStatus = (typeof resolveStatuses)[number];

export interface ResolveResult {
  readonly breakId: string;
  readonly status: ResolveStatus;
  readonly transferIds: readonly string[];
  /** For `rejected`: the ledger's status for the first refused transfer. */
  readonly rejection?: string;
}

export interface ResolveOptions {
  readonly ledger: Ledger;
  readonly workDir: string;
  /** The report of the run the breaks come from. */
  readonly report: Report;
  /** The breaks to resolve; with `auto` instead, every break classified `auto`. */
  readonly breakIds?: readonly string[];
  readonly auto?: boolean;
  /** Suspense account ids per currency; `{profile}` and `{currency}` are filled in. */
  readonly suspenseAccountTemplate?: string;
}

/** References longer than this are left out of an adjustment's metadata (values hold 256 bytes). */
const referenceInMetadataMax = 128;

function transfersOf(found: ReportBreak, report: Report, template: string): TransferInput[] {
  const { inputs } = report;
  return found.adjustments.map((adjustment, index) => {
    const clearing = accountIdFor(
      inputs.clearingAccountTemplate,
      inputs.profile,
      adjustment.currency,
    );
    const suspense = accountIdFor(template, inputs.profile, adjustment.currency);
    // A positive adjustment moves the clearing account the way a capture does.
    const captureWay = adjustment.amount > 0n;
    const debitsClearing = captureWay === (inputs.clearingSide === 'debit');
    const metadata: Record<string, string> = {
      [adjustmentKeys.breakId]: found.id,
      [adjustmentKeys.runId]: report.runId,
      [adjustmentKeys.breakType]: found.type,
    };
    if (found.reference.length <= referenceInMetadataMax)
      metadata[inputs.referenceKey] = found.reference;
    return {
      id: adjustmentTransferId(found.id, index),
      debitAccountId: debitsClearing ? clearing : suspense,
      creditAccountId: debitsClearing ? suspense : clearing,
      amount: captureWay ? adjustment.amount : -adjustment.amount,
      currency: adjustment.currency,
      metadata,
    };
  });
}

async function resolveOne(
  found: ReportBreak,
  options: ResolveOptions,
  by: 'auto' | 'manual',
): Promise<ResolveResult> {
  if ((await readResolution(options.workDir, found.id)) !== undefined) {
    const transferIds = found.adjustments.map((_a, index) => adjustmentTransferId(found.id, index));
    return { breakId: found.id, status: 'already_resolved', transferIds };
  }
  const template = options.suspenseAccountTemplate ?? suspenseAccountTemplateDefault;
  const transfers = transfersOf(found, options.report, template);
  const transferIds = transfers.map((transfer) => transfer.id);
  for (let start = 0; start < transfers.length; start += limits.batchSizeMax) {
    const results = await options.ledger.createTransfers(
      transfers.slice(start, start + limits.batchSizeMax),
    );
    const refused = results.find((result) => result.status !== 'ok' && result.status !== 'exists');
    if (refused !== undefined) {
      return { breakId: found.id, status: 'rejected', transferIds, rejection: refused.status };
    }
  }
  await writeResolution(options.workDir, {
    breakId: found.id,
    runId: options.report.runId,
    transferIds,
    by,
  });
  return { breakId: found.id, status: 'resolved', transferIds };
}

/** Resolves breaks of a report; one result per break asked for (or per `auto` break). */
export async function resolveBreaks(options: ResolveOptions): Promise<ResolveResult[]> {
  const byId = new Map(options.report.breaks.map((found) => [found.id, found]));
  const asked =
    options.breakIds ??
    (options.auto === true
      ? options.report.breaks
          .filter((found) => found.classification === 'auto')
          .map((found) => found.id)
      : []);
  const results: ResolveResult[] = [];
  for (const breakId of asked) {
    const found = byId.get(breakId);
    if (found === undefined) {
      results.push({ breakId, status: 'not_found', transferIds: [] });
      continue;
    }
    results.push(
      await resolveOne(found, options, options.breakIds === undefined ? 'auto' : 'manual'),
    );
  }
  return results;
}
