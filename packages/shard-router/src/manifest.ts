// The data dir's manifest: which format, how many shards, which hash and which partition map.
// It is written atomically (tmp file, fsync, rename, fsync dir) when the dir is created and when an
// open raises its format version, so a crash leaves the old manifest or the new one, never a torn
// one. Shard s lives in `<dir>/shard-<s, 3 digits>`.

import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LedgerError, limits } from '@shardledger/ledger-core';
import { syncDir, writeFileAtomic } from '@shardledger/ledger-core/internals';
import { legacyLockFileNames, lockFileName, lockTableFileName } from './dir-lock.js';
import {
  assertShardCount,
  defaultPartitionMap,
  hashAlgorithm,
  partitionMapProblem,
} from './partition.js';

export const manifestFileName = 'manifest.json';
const manifestTmpFileName = 'manifest.json.tmp';
/** Present from before the manifest is written until every shard of a new ledger was created
 * with its identity: only while it is there may a shard's environment be created. So a crash
 * midway through creating a ledger is finished by the next open, and a shard lost later is
 * refused instead of replaced by an empty one. */
export const shardsCreatingFileName = 'SHARDS-CREATING';
/** The data dir's format. 2 added the shards' format version 2 (ShardEngine's `runs` and
 * `sagaRuns` dbs); 1 is read and raised to 2 on open. A newer number is refused: this build would
 * not know what it changed. */
export const manifestFormatVersion = 2;
const formatVersionsRead: ReadonlySet<unknown> = new Set([1, 2]);
/** Entries that may exist in a dir that is still "new": our lock (and an older build's), a torn
 * manifest write. */
const entriesOfNewDir: ReadonlySet<string> = new Set([
  lockFileName,
  lockTableFileName,
  ...legacyLockFileNames,
  manifestTmpFileName,
  shardsCreatingFileName,
]);

export interface Manifest {
  readonly format: 'shardledger';
  /** manifestFormatVersion once opened by this build; 1 in a dir not opened since. */
  readonly formatVersion: number;
  readonly shards: number;
  readonly partitionCount: number;
  readonly hash: typeof hashAlgorithm;
  /** partitionMap[partition] = the shard that owns it. */
  readonly partitionMap: readonly number[];
  /** ISO 8601, informational only. */
  readonly createdAt: string;
  /** A random UUID given when the dir is created: which ledger this is (a read model file checks
   * it). Absent in dirs created before it existed; ledgerIdentity falls back on createdAt. */
  readonly ledgerId?: string;
}

/** What tells this ledger from any other: its ledgerId, or for an older dir its creation time. */
export function ledgerIdentity(manifest: Manifest): string {
  return manifest.ledgerId ?? `created ${manifest.createdAt}`;
}

export interface OpenManifestOptions {
  readonly dir: string;
  /** Required when the dir is created; when given on reopen it must equal the stored value. */
  readonly shards?: number;
}

export interface OpenedManifest {
  readonly manifest: Manifest;
  /** True when this call created the data dir's manifest. */
  readonly created: boolean;
  /** Absolute or dir-relative paths of the shard dirs, index = shard id. They exist while
   * `creating`; otherwise a missing one is the shard's open to refuse. */
  readonly shardDirs: readonly string[];
  /** True until finishCreation: the shards may still have to be created. */
  readonly creating: boolean;
}

/** What each shard records of the partition map it was written under: a change of the map (an
 * edited manifest) would route accounts to shards that do not hold them. */
export function partitionMapDigest(manifest: Manifest): string {
  const mapped = {
    hash: manifest.hash,
    shards: manifest.shards,
    partitionCount: manifest.partitionCount,
    partitionMap: manifest.partitionMap,
  };
  return createHash('sha256').update(JSON.stringify(mapped)).digest('hex');
}

/** Ends the creation of a ledger once each of its shards exists with its identity. */
export async function finishCreation(dir: string): Promise<void> {
  await rm(join(dir, shardsCreatingFileName), { force: true });
  await syncDir(dir);
}

export function shardDirName(shard: number): string {
  return `shard-${String(shard).padStart(3, '0')}`;
}

export function shardDir(dir: string, shard: number): string {
  return join(dir, shardDirName(shard));
}

/** Refuses, before anything is written into it (not even the lock file), a dir that holds
 * entries of its own and no manifest: it can never become a ledger, so no lock is needed to say
 * so. A missing or new dir passes (openOrCreateManifest decides under the lock). */
export async function refuseForeignDir(dir: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return; // Missing, or not a dir: the open's own steps say what is wrong.
  }
  if (entries.includes(manifestFileName)) return;
  const foreign = entries.find((entry) => !entriesOfNewDir.has(entry));
  if (foreign !== undefined)
    throw new LedgerError('NOT_A_LEDGER', {
      dir,
      problem: `no ${manifestFileName}`,
      entry: foreign,
    });
}

/** Opens the data dir at `dir`, creating it (and its manifest and shard dirs) when it is missing
 * or empty. Throws SHARD_COUNT_MISMATCH, NOT_A_LEDGER or INVALID_ARGUMENT as documented. */
export async function openOrCreateManifest(options: OpenManifestOptions): Promise<OpenedManifest> {
  const { dir, shards } = options;
  if (shards !== undefined) assertShardCount(shards);
  await mkdir(dir, { recursive: true });
  let manifest = await readManifest(dir);
  let created = false;
  if (manifest === undefined) {
    const entries = await readdir(dir);
    const foreign = entries.filter((entry) => !entriesOfNewDir.has(entry));
    if (foreign.length > 0) {
      throw new LedgerError('NOT_A_LEDGER', {
        dir,
        problem: `no ${manifestFileName}`,
        entry: foreign[0] ?? null,
      });
    }
    if (shards === undefined)
      throw new LedgerError('INVALID_ARGUMENT', {
        field: 'shards',
        problem: 'required to create a data dir',
      });
    manifest = newManifest(shards);
    await writeFileAtomic(
      join(dir, shardsCreatingFileName),
      'shards of a new ledger are being created here\n',
    );
    await writeFileAtomic(join(dir, manifestFileName), `${JSON.stringify(manifest, null, 2)}\n`);
    created = true;
  } else if (shards !== undefined && shards !== manifest.shards) {
    throw new LedgerError('SHARD_COUNT_MISMATCH', { dir, shards, manifestShards: manifest.shards });
  }
  if (manifest.formatVersion < manifestFormatVersion) {
    // Raised before any shard opens: from here on an older build refuses the dir.
    manifest = { ...manifest, formatVersion: manifestFormatVersion };
    await writeFileAtomic(join(dir, manifestFileName), `${JSON.stringify(manifest, null, 2)}\n`);
  }
  const creating = await exists(join(dir, shardsCreatingFileName));
  const shardDirs: string[] = [];
  for (let shard = 0; shard < manifest.shards; shard++) {
    const path = shardDir(dir, shard);
    // Only while creating: a shard dir missing from an existing ledger is refused by its open.
    if (creating) await mkdir(path, { recursive: true });
    shardDirs.push(path);
  }
  return { manifest, created, shardDirs, creating };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new LedgerError('IO_ERROR', { path, problem: String((error as Error).message) });
  }
}

function newManifest(shards: number): Manifest {
  const partitionCount = limits.partitionCount;
  return {
    format: 'shardledger',
    formatVersion: manifestFormatVersion,
    shards,
    partitionCount,
    hash: hashAlgorithm,
    partitionMap: defaultPartitionMap({ shards, partitionCount }),
    createdAt: new Date().toISOString(),
    ledgerId: randomUUID(),
  };
}

/** The validated manifest, or undefined when `dir` has no manifest file. */
export async function readManifest(dir: string): Promise<Manifest | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, manifestFileName), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LedgerError('IO_ERROR', { dir, problem: String((error as Error).message) });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new LedgerError('NOT_A_LEDGER', { dir, problem: `${manifestFileName} is not JSON` });
  }
  const problem = manifestProblem(parsed);
  if (problem !== null) throw new LedgerError('NOT_A_LEDGER', { dir, problem });
  return parsed as Manifest;
}

/** Why `value` is not a valid manifest, or null. */
export function manifestProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return 'manifest is not an object';
  const raw = value as Partial<Record<keyof Manifest, unknown>>;
  if (raw.format !== 'shardledger') return 'format is not shardledger';
  if (!formatVersionsRead.has(raw.formatVersion))
    return `unsupported formatVersion ${String(raw.formatVersion)}`;
  if (raw.hash !== hashAlgorithm) return `unsupported hash ${String(raw.hash)}`;
  const shards = raw.shards;
  if (
    typeof shards !== 'number' ||
    !Number.isSafeInteger(shards) ||
    shards < 1 ||
    shards > limits.shardCountMax
  ) {
    return 'shards is out of range';
  }
  const partitionCount = raw.partitionCount;
  if (
    typeof partitionCount !== 'number' ||
    !Number.isSafeInteger(partitionCount) ||
    partitionCount < shards
  ) {
    return 'partitionCount is out of range';
  }
  if (!Array.isArray(raw.partitionMap) || raw.partitionMap.length !== partitionCount) {
    return 'partitionMap length differs from partitionCount';
  }
  const mapProblem = partitionMapProblem(raw.partitionMap, shards);
  if (mapProblem !== null) return mapProblem;
  if (typeof raw.createdAt !== 'string') return 'createdAt is not a string';
  if (
    raw.ledgerId !== undefined &&
    (typeof raw.ledgerId !== 'string' ||
      !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(raw.ledgerId))
  ) {
    return 'ledgerId is not a UUID';
  }
  return null;
}
