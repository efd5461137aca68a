// Looking a run up by its id, and checking a settlement file's first lines before a run is
// started: what a service that starts runs in the background (the payments API's route) answers
// its callers with.

import { LedgerError } from '@shardledger/shard-router';
import { refreshStatuses } from './report-build.js';
import { profileByName, type Profile } from './profiles.js';
import { RunStore } from './run-store.js';
import type { Report } from './run-types.js';
import { readSettlement } from './settlement-reader.js';

/** A run id: the first 20 hex digits of a sha256 (run-store.ts). */
export const runIdPattern = /^[0-9a-f]{20}$/;

export type RunLookup =
  | { readonly status: 'done'; readonly report: Report }
  /** Recorded, with no report yet: running now, or stopped before its end (run it again to
   * resume it). */
  | { readonly status: 'started' };

/** The run recorded under `runId` in `workDir`, or undefined when there is none. */
export async function lookupRun(workDir: string, runId: string): Promise<RunLookup | undefined> {
  if (!runIdPattern.test(runId))
    throw new LedgerError(
      'INVALID_ARGUMENT',
      { reason: 'RUN_ID_MALFORMED', runId },
      `INVALID_ARGUMENT: '${runId}' is not a run id (20 hex digits)`,
    );
  const store = new RunStore(workDir, runId);
  const report = await store.readReport();
  if (report !== undefined)
    return { status: 'done', report: await refreshStatuses(workDir, report) };
  return (await store.readRecord()) === undefined ? undefined : { status: 'started' };
}

/** Reads the file's header and first lines through the profile: throws the INVALID_ARGUMENT a
 * run would (an empty file, another profile's file) without reading further. */
export async function checkSettlementFile(file: string, profile: string | Profile): Promise<void> {
  const chosen = typeof profile === 'string' ? profileByName(profile) : profile;
  const batches = readSettlement(file, chosen);
  try {
    // The header is checked as the first chunk is read, and the file is refused there or at its
    // end (a file of no header): read until a first line, or to the end.
    for (;;) {
      const batch = await batches.next();
      if (batch.done === true || batch.value.length > 0) break;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new LedgerError(
      'INVALID_ARGUMENT',
      { reason: 'FILE_NOT_FOUND', path: file },
      `INVALID_ARGUMENT: no settlement file at ${file}`,
    );
  } finally {
    await batches.return(undefined);
  }
}
