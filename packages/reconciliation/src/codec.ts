// Bigints in JSON. The files this package keeps for itself (buckets, results, runs) write a bigint
// as a one-key object `{"$n":"123"}`, which reads back exactly and cannot be confused with a string
// from a settlement file (every value read from a file is a string). Reports for people and
// scripts write plain decimal strings instead.

import { readFile, rename, writeFile } from 'node:fs/promises';

const bigintTag = '$n';

function isTagged(item: unknown): item is Record<typeof bigintTag, string> {
  if (typeof item !== 'object' || item === null) return false;
  const keys = Object.keys(item);
  return keys.length === 1 && keys[0] === bigintTag;
}

export function encodeJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    typeof item === 'bigint' ? { [bigintTag]: item.toString() } : item,
  );
}

export function decodeJson<T>(text: string): T {
  return JSON.parse(text, (_key, item: unknown) =>
    isTagged(item) ? BigInt(item[bigintTag]) : item,
  ) as T;
}

/** JSON for people and scripts: bigints as decimal strings, indented. */
export function reportJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item),
    2,
  );
}

/** Writes a file whole or not at all: a temporary file renamed over the target, so a process
 * killed mid-write leaves the old content or none, never half of the new. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`;
  await writeFile(temporary, text);
  await rename(temporary, path);
}

export async function readJsonFile<T>(path: string): Promise<T | undefined> {
  try {
    return decodeJson<T>(await readFile(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
