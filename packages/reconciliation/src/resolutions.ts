// The lifecycle of breaks: `open`, then `resolved`. Resolving a break posts its adjusting
// transfers (one per currency it adjusts) between the clearing account and a suspense account,
// with metadata pointing back to the break and its run, and then records the resolution in
// `<workDir>/resolutions/<breakId>.json`. Transfer ids come from the break id, so resolving a
// break again, or after a crash between the two steps, posts nothing twice: the ledger answers
// `exists` for what it already holds.

import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeJson, readJsonFile, writeFileAtomic } from './codec.js';

export interface Resolution {
  readonly breakId: string;
  readonly runId: string;
  readonly transferIds: readonly string[];
  /** `auto`: by an auto-resolution rule; `manual`: asked for by id. */
  readonly by: 'auto' | 'manual';
}

function resolutionsDir(workDir: string): string {
  return join(workDir, 'resolutions');
}

export function readResolution(workDir: string, breakId: string): Promise<Resolution | undefined> {
  return readJsonFile<Resolution>(join(resolutionsDir(workDir), `${breakId}.json`));
}

export async function writeResolution(workDir: string, resolution: Resolution): Promise<void> {
  await mkdir(resolutionsDir(workDir), { recursive: true });
  await writeFileAtomic(
    join(resolutionsDir(workDir), `${resolution.breakId}.json`),
    encodeJson(resolution),
  );
}

/** Every recorded resolution, by break id. */
export async function readResolutions(workDir: string): Promise<Map<string, Resolution>> {
  const found = new Map<string, Resolution>();
  let names: string[];
  try {
    names = await readdir(resolutionsDir(workDir));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return found;
    throw error;
  }
  for (const name of names.filter((entry) => entry.endsWith('.json')).sort()) {
    const resolution = await readResolution(workDir, name.slice(0, -'.json'.length));
    if (resolution !== undefined) found.set(resolution.breakId, resolution);
  }
  return found;
}

/** The id of a break's `index`-th adjusting transfer. */
export function adjustmentTransferId(breakId: string, index: number): string {
  return `recon-${breakId}-${index}`;
}
