// Mechanical style rules (TigerBeetle's tidy): greps over the sources that fail the suite.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const domainDir = join(root, 'packages/ledger-core/src/domain');
const self = fileURLToPath(import.meta.url);

function filesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist') continue;
    if (statSync(path).isDirectory()) found.push(...filesUnder(path));
    else if (/\.(ts|mts|cts|js|mjs)$/.test(name)) found.push(path);
  }
  return found;
}

/** Every Markdown file under `dir`. */
function filesUnderText(dir: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...filesUnderText(path));
    else if (name.endsWith('.md')) found.push(path);
  }
  return found;
}

/** Source without comments, so that prose may name what code may not use. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

/** `file:line: text` for every line of `files` matching `pattern`. */
function offences(files: string[], pattern: RegExp, strip = true): string[] {
  const hits: string[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const lines = (strip ? code(text) : text).split('\n');
    lines.forEach((line, index) => {
      if (pattern.test(line)) hits.push(`${relative(root, file)}:${index + 1}: ${line.trim()}`);
    });
  }
  return hits;
}

const domainFiles = filesUnder(domainDir);
const packageDirs = readdirSync(join(root, 'packages')).map((name) => join(root, 'packages', name));
const allSources = packageDirs
  .flatMap((dir) => ['src', 'test'].map((sub) => join(dir, sub)))
  .filter((dir) => {
    try {
      return statSync(dir).isDirectory();
    } catch {
      return false;
    }
  })
  .flatMap(filesUnder)
  .filter((file) => file !== self);

describe('tidy: the pure core (packages/ledger-core/src/domain)', () => {
  it('finds the domain sources it checks', () => {
    expect(domainFiles.map((file) => relative(domainDir, file))).toContain('decide.ts');
  });

  it('imports nothing from node:*, lmdb, msgpackr or piscina', () => {
    const banned =
      /(from\s+|import\s*\(\s*|require\s*\(\s*)['"](node:[^'"]*|lmdb[^'"]*|msgpackr[^'"]*|piscina[^'"]*|fs|path|os|worker_threads|crypto)['"]/;
    expect(offences(domainFiles, banned)).toEqual([]);
  });

  it('reads no clock, randomness or crypto', () => {
    expect(
      offences(
        domainFiles,
        /\bDate\.now\s*\(|\bnew Date\s*\(|\bMath\.random\s*\(|\bperformance\.now\s*\(|\bprocess\.hrtime|\bcrypto\b/,
      ),
    ).toEqual([]);
  });

  it('uses no floating-point helpers near money: parseFloat, toFixed, Math.', () => {
    expect(offences(domainFiles, /\bparseFloat\s*\(|\.toFixed\s*\(|\bMath\./)).toEqual([]);
  });

  it('calls Number( only in balance.ts, which documents its guarded fast path', () => {
    const others = domainFiles.filter((file) => !file.endsWith('/balance.ts'));
    expect(offences(others, /(^|[^.\w])Number\s*\(/)).toEqual([]);
    expect(readFileSync(join(domainDir, 'balance.ts'), 'utf8')).toMatch(
      /allowed[\s/]+to use Number\(\)/,
    );
  });

  it('uses only erasable syntax: no enum, no namespace', () => {
    expect(
      offences(
        domainFiles,
        /^\s*(export\s+)?(declare\s+)?(const\s+)?enum\s+\w|^\s*(export\s+)?namespace\s+\w/,
      ),
    ).toEqual([]);
  });
});

describe('tidy: every package', () => {
  it('finds sources in more than one package', () => {
    expect(
      new Set(allSources.map((file) => relative(root, file).split('/')[1])).size,
    ).toBeGreaterThan(1);
  });

  it('leaves no focused or skipped tests behind', () => {
    const focused = new RegExp(String.raw`\b(it|test|describe|bench)\.(only|skip)\s*\(`);
    expect(offences(allSources, focused)).toEqual([]);
  });

  it('leaves no TODO or FIXME markers', () => {
    const markers = new RegExp(['TO', 'DO|FIX', 'ME'].join(''));
    expect(offences(allSources, markers, false)).toEqual([]);
  });

  it('speaks of the project alone: no issue, note or style-rule numbers in sources, docs or the README', () => {
    const docs = filesUnderText(join(root, 'docs')).concat(join(root, 'README.md'));
    const references = new RegExp(
      [
        'STYLE',
        String.raw`\s+rules?\s+\d|\bissues?\s+#?\d|\b[a-z-]+\s+issue's\b|\bthe\s+issue's\b|closing\s+note`,
      ].join(''),
      'i',
    );
    expect(offences([...allSources, ...docs], references, false)).toEqual([]);
  });

  it('uses no enum or namespace anywhere', () => {
    expect(
      offences(
        allSources,
        /^\s*(export\s+)?(declare\s+)?(const\s+)?enum\s+\w|^\s*(export\s+)?namespace\s+\w/,
      ),
    ).toEqual([]);
  });
});
