// Goal: a read-model file of an older schema is projected again when a ReadModel opens it, and
// refused where it cannot be (read-only, or a newer build's schema).
// Method: a real ledger in a temp dir, its read model projected and closed, then the file's
// schema version rewritten with SQLite itself before it is opened again.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '@shardledger/ledger-core/testing';
import { Ledger } from '../src/index.js';
import { errorCodeOfCall } from './ledger-fixtures.js';
import { ReadModel, openReadModelFile, readModelSchemaVersion } from '../src/read-model/index.js';
import { openSqlite } from '../src/sqlite-driver.js';

let cleanup: () => Promise<void>;
let ledger: Ledger;
let path: string;

function setSchemaVersion(version: number): void {
  const db = openSqlite(path, { readonly: false, fileMustExist: true, timeout: 5_000 });
  try {
    db.pragma(`user_version = ${version}`);
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  const made = await tempDir('read-model-schema');
  cleanup = made.cleanup;
  ledger = await Ledger.open({ dir: made.dir, shards: 2 });
  path = join(made.dir, 'rm.sqlite');
  await ledger.createAccounts([
    { id: 'a', currency: 'USD' },
    { id: 'b', currency: 'EUR/3' },
  ]);
  const model = await ReadModel.open({ ledger, path, follow: false });
  await model.catchUp({ timeoutMs: 15_000 });
  await model.close();
}, 60_000);

afterAll(async () => {
  await ledger?.close();
  await cleanup?.();
});

describe('read-model schema versions', () => {
  it('projects a file of an older schema again from the log, and refuses it read-only', async () => {
    setSchemaVersion(readModelSchemaVersion - 1);
    expect(await errorCodeOfCall(() => openReadModelFile({ path }))).toBe('INVALID_ARGUMENT');
    const model = await ReadModel.open({ ledger, path, follow: false });
    try {
      await model.catchUp({ timeoutMs: 15_000 });
      expect(model.lookupAccounts(['a', 'b'])).toEqual(await ledger.lookupAccounts(['a', 'b']));
      expect(model.lookupAccounts(['b'])[0]?.scale).toBe(3);
    } finally {
      await model.close();
    }
    const file = openReadModelFile({ path });
    expect(file.lookupAccounts(['a'])[0]?.id).toBe('a');
    file.close();
  });

  it("refuses a newer build's file instead of deleting it", async () => {
    setSchemaVersion(readModelSchemaVersion + 1);
    expect(await errorCodeOfCall(() => ReadModel.open({ ledger, path, follow: false }))).toBe(
      'INVALID_ARGUMENT',
    );
    setSchemaVersion(readModelSchemaVersion);
    const model = await ReadModel.open({ ledger, path, follow: false });
    expect(model.lookupAccounts(['a'])[0]?.currency).toBe('USD');
    await model.close();
  });
});
