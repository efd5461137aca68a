// Goal: the store's group commit keeps each write all-or-nothing, commits the writes of one turn
// of the event loop together before the next turn, tells when they are durable, and stops taking
// writes once a commit failed. Method: a real store file, read back through a second connection
// (which sees committed writes only).
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { closeStore, openStore, statement, storeDurable, transact, type Db } from '../src/store.js';
import { tempDir } from './harness.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function stores(): Promise<{ db: Db; reader: Db }> {
  const dir = await tempDir('turns');
  dirs.push(dir);
  const path = join(dir, 'payments.sqlite');
  return { db: openStore(path), reader: new Database(path, { readonly: true }) };
}

function remember(db: Db, eventId: string): void {
  statement(db, 'INSERT INTO webhooks_in VALUES (?, ?, ?)').run('psp', eventId, 0);
}

function committed(reader: Db): string[] {
  const rows = reader.prepare('SELECT event_id FROM webhooks_in ORDER BY event_id').all() as {
    event_id: string;
  }[];
  return rows.map((row) => row.event_id);
}

describe('the store commits a turn of the event loop at a time', () => {
  it('commits the writes of one turn together, before the next turn', async () => {
    const { db, reader } = await stores();
    transact(db, () => remember(db, 'a'));
    transact(db, () => remember(db, 'b'));
    // Seen by the writing connection at once, by others once the turn is committed.
    expect(statement(db, 'SELECT count(*) AS n FROM webhooks_in').get()).toEqual({ n: 2 });
    expect(committed(reader)).toEqual([]);
    await storeDurable(db);
    expect(committed(reader)).toEqual(['a', 'b']);
    transact(db, () => remember(db, 'c'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(committed(reader)).toEqual(['a', 'b', 'c']);
    reader.close();
    closeStore(db);
  });

  it('keeps each write all-or-nothing within the turn', async () => {
    const { db, reader } = await stores();
    transact(db, () => remember(db, 'kept'));
    expect(() =>
      transact(db, () => {
        remember(db, 'undone');
        remember(db, 'kept'); // a duplicate key: this write fails, and takes 'undone' with it
      }),
    ).toThrow(/UNIQUE/);
    await storeDurable(db);
    expect(committed(reader)).toEqual(['kept']);
    reader.close();
    closeStore(db);
  });

  it('commits an open turn on close', async () => {
    const { db, reader } = await stores();
    transact(db, () => remember(db, 'last'));
    closeStore(db);
    expect(committed(reader)).toEqual(['last']);
    reader.close();
  });

  it('takes no more writes once a commit failed, and says so to whoever waits', async () => {
    const { db, reader } = await stores();
    // A deferred foreign key is checked at COMMIT: this turn's commit fails.
    db.exec(`CREATE TABLE parent (id TEXT PRIMARY KEY);
      CREATE TABLE child (parent TEXT REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)`);
    transact(db, () => remember(db, 'lost'));
    transact(db, () => statement(db, 'INSERT INTO child VALUES (?)').run('nobody'));
    await expect(storeDurable(db)).rejects.toThrow(/FOREIGN KEY/);
    expect(() => transact(db, () => remember(db, 'after'))).toThrow(/FOREIGN KEY/);
    await expect(storeDurable(db)).rejects.toThrow(/FOREIGN KEY/);
    expect(committed(reader)).toEqual([]);
    reader.close();
    closeStore(db);
  });
});
