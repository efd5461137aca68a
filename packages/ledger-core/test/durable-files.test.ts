// Goal: a file written from a list of buffers (a snapshot's slices) holds exactly their bytes in
// order, with no temp file left, and a short write goes on from the byte where it stopped.
// Method: real files in a temp dir; more buffers than one vectored write takes, some empty; the
// resume step is checked on its own at every byte count a short write could return.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { afterWritten, writeFileAtomic } from '../src/storage/durable-files.js';

const dir = mkdtempSync(join(tmpdir(), 'durable-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function buffers(count: number): Buffer[] {
  return Array.from({ length: count }, (_, index) =>
    Buffer.alloc(index % 7 === 0 ? 0 : 1 + (index % 97), index & 0xff),
  );
}

describe('writeFileAtomic', () => {
  it('writes a list of buffers, more than one vectored write takes, as their concatenation', async () => {
    const parts = buffers(1_300);
    const path = join(dir, 'many.bin');
    await writeFileAtomic(path, parts);
    expect(readFileSync(path).equals(Buffer.concat(parts))).toBe(true);
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('replaces an older file whole, from a string, a buffer or a list', async () => {
    const path = join(dir, 'replaced.bin');
    await writeFileAtomic(path, 'a longer first version of the file');
    await writeFileAtomic(path, [Buffer.from('ne'), Buffer.from('w')]);
    expect(readFileSync(path, 'utf8')).toBe('new');
    await writeFileAtomic(path, Buffer.from('one buffer'));
    expect(readFileSync(path, 'utf8')).toBe('one buffer');
  });
});

describe('afterWritten', () => {
  it('leaves the bytes after every possible short write, in order', () => {
    const parts = [Buffer.from('abc'), Buffer.from('d'), Buffer.from('efgh')];
    const whole = Buffer.concat(parts).toString();
    for (let written = 0; written <= whole.length; written += 1) {
      const left = afterWritten(parts, written);
      expect(Buffer.concat(left).toString()).toBe(whole.slice(written));
      expect(left.every((part) => part.length > 0)).toBe(true);
    }
  });
});
