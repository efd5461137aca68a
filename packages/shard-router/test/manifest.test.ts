// Goal: a data dir is created once with its manifest and refused when reopened wrongly; real temp dirs.
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '@shardledger/ledger-core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLedgerError, limits } from '@shardledger/ledger-core';
import {
  ledgerIdentity,
  manifestFileName,
  manifestFormatVersion,
  openOrCreateManifest,
  readManifest,
  shardDir,
  shardsCreatingFileName,
} from '../src/manifest.js';

let root: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir: root, cleanup } = await tempDir('manifest'));
});
afterEach(async () => {
  await cleanup();
});

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return isLedgerError(error) ? error.code : `not a LedgerError: ${String(error)}`;
  }
  return undefined;
}

describe('openOrCreateManifest', () => {
  it('creates the manifest and the shard dirs in a new dir', async () => {
    const dir = join(root, 'data');
    const opened = await openOrCreateManifest({ dir, shards: 4 });
    expect(opened.created).toBe(true);
    expect(opened.shardDirs).toEqual([0, 1, 2, 3].map((shard) => shardDir(dir, shard)));
    // The marker stays until Ledger.open created every shard (finishCreation).
    expect(opened.creating).toBe(true);
    expect(await readdir(dir)).toEqual([
      shardsCreatingFileName,
      manifestFileName,
      'shard-000',
      'shard-001',
      'shard-002',
      'shard-003',
    ]);
    const stored = JSON.parse(await readFile(join(dir, manifestFileName), 'utf8'));
    expect(stored).toMatchObject({
      format: 'shardledger',
      formatVersion: manifestFormatVersion,
      shards: 4,
      hash: 'fnv1a32',
    });
    expect(manifestFormatVersion).toBe(2);
    expect(stored.partitionCount).toBe(limits.partitionCount);
    expect(stored.partitionMap).toHaveLength(limits.partitionCount);
    expect(stored.partitionMap.slice(0, 5)).toEqual([0, 1, 2, 3, 0]);
    expect(Number.isNaN(Date.parse(stored.createdAt))).toBe(false);
    expect(stored.ledgerId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    const other = await openOrCreateManifest({ dir: join(root, 'other'), shards: 4 });
    expect(other.manifest.ledgerId).not.toBe(stored.ledgerId);
  });

  it('reads a manifest without ledgerId (an older dir), and refuses one whose ledgerId is not a UUID', async () => {
    const dir = join(root, 'data');
    const { manifest } = await openOrCreateManifest({ dir, shards: 2 });
    const { ledgerId: _dropped, ...older } = manifest;
    await writeFile(join(dir, manifestFileName), JSON.stringify(older));
    expect((await readManifest(dir))?.ledgerId).toBeUndefined();
    expect(ledgerIdentity(older)).toBe(`created ${manifest.createdAt}`);
    await writeFile(
      join(dir, manifestFileName),
      JSON.stringify({ ...manifest, ledgerId: 'ledger-1' }),
    );
    expect(await codeOf(readManifest(dir))).toBe('NOT_A_LEDGER');
  });

  it('reopens with the stored shard count, given or not', async () => {
    const dir = join(root, 'data');
    const first = await openOrCreateManifest({ dir, shards: 3 });
    const again = await openOrCreateManifest({ dir, shards: 3 });
    const implicit = await openOrCreateManifest({ dir });
    expect(again.created).toBe(false);
    expect(implicit.manifest).toEqual(first.manifest);
    expect(implicit.shardDirs).toHaveLength(3);
  });

  it('refuses to reopen with another shard count', async () => {
    const dir = join(root, 'data');
    await openOrCreateManifest({ dir, shards: 2 });
    expect(await codeOf(openOrCreateManifest({ dir, shards: 4 }))).toBe('SHARD_COUNT_MISMATCH');
  });

  it('refuses a non-empty dir without a manifest, and a corrupt manifest', async () => {
    await writeFile(join(root, 'notes.txt'), 'hello');
    expect(await codeOf(openOrCreateManifest({ dir: root, shards: 2 }))).toBe('NOT_A_LEDGER');

    const corrupt = join(root, 'corrupt');
    await mkdir(corrupt);
    await writeFile(join(corrupt, manifestFileName), '{"format":"shardledger"');
    expect(await codeOf(openOrCreateManifest({ dir: corrupt }))).toBe('NOT_A_LEDGER');

    const wrongMap = join(root, 'wrong-map');
    await openOrCreateManifest({ dir: wrongMap, shards: 2 });
    const manifest = JSON.parse(await readFile(join(wrongMap, manifestFileName), 'utf8'));
    manifest.partitionMap[7] = 5;
    await writeFile(join(wrongMap, manifestFileName), JSON.stringify(manifest));
    expect(await codeOf(readManifest(wrongMap))).toBe('NOT_A_LEDGER');
  });

  it('raises a version 1 manifest to the current version on open, and refuses a newer one', async () => {
    const dir = join(root, 'versions');
    await openOrCreateManifest({ dir, shards: 2 });
    const manifest = JSON.parse(await readFile(join(dir, manifestFileName), 'utf8'));
    await writeFile(join(dir, manifestFileName), JSON.stringify({ ...manifest, formatVersion: 1 }));
    expect((await readManifest(dir))?.formatVersion).toBe(1);
    const reopened = await openOrCreateManifest({ dir });
    expect(reopened.manifest.formatVersion).toBe(manifestFormatVersion);
    const stored = JSON.parse(await readFile(join(dir, manifestFileName), 'utf8'));
    expect(stored).toEqual({ ...manifest, formatVersion: manifestFormatVersion });

    await writeFile(
      join(dir, manifestFileName),
      JSON.stringify({ ...manifest, formatVersion: manifestFormatVersion + 1 }),
    );
    expect(await codeOf(openOrCreateManifest({ dir }))).toBe('NOT_A_LEDGER');
  });

  it('treats a dir holding only a lock and a torn manifest write as new', async () => {
    const dir = join(root, 'data');
    await mkdir(dir);
    await writeFile(join(dir, 'LOCK'), `${process.pid}\n`);
    await writeFile(join(dir, `${manifestFileName}.tmp`), '{"form');
    const opened = await openOrCreateManifest({ dir, shards: 1 });
    expect(opened.created).toBe(true);
  });

  it('requires a valid shard count to create a data dir', async () => {
    expect(await codeOf(openOrCreateManifest({ dir: join(root, 'a') }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(openOrCreateManifest({ dir: join(root, 'b'), shards: 0 }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(
      await codeOf(
        openOrCreateManifest({ dir: join(root, 'c'), shards: limits.shardCountMax + 1 }),
      ),
    ).toBe('INVALID_ARGUMENT');
    expect(
      await codeOf(openOrCreateManifest({ dir: join(root, 'd'), shards: limits.shardCountMax })),
    ).toBe(undefined);
  });
});
