// Goal: the docs cannot rot. Every code block marked as a snippet in README.md and docs/**/*.md is
// byte-for-byte the content of its docs/snippets/*.ts file, every snippet runs against the built
// Ledger on a fresh temp dir (it asserts its own claims), every command of a block marked
// `<!-- cli-example -->` runs with the built CLI and exits 0, and every relative link resolves.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tempDir } from '@shardledger/ledger-core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';

const root = resolve(fileURLToPath(new URL('../../../', import.meta.url)));
const snippetsDir = join(root, 'docs', 'snippets');

/** Pages whose every ```ts block must be a snippet (the pages the docs test's owner writes);
 * other pages are checked only for the blocks they mark. */
const strictPages = new Set([
  'README.md',
  'docs/README.md',
  'docs/architecture.md',
  'docs/api.md',
  'docs/operations.md',
]);

/** Small workloads for snippets that take their size from the environment. */
const snippetEnv: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'sizing.ts': { SIZING_ACCOUNTS: '2000', SIZING_TRANSFERS: '10000' },
  'metrics.ts': { METRICS_PORT: '0' },
};

function markdownFiles(): string[] {
  const found = ['README.md'];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory() && entry.name !== 'snippets' && entry.name !== 'node_modules')
        walk(path);
      else if (entry.isFile() && entry.name.endsWith('.md')) found.push(path);
    }
  };
  walk('docs');
  return found.sort();
}

interface CodeBlock {
  readonly page: string;
  readonly line: number;
  readonly lang: string;
  readonly body: string;
  /** The file named by a `<!-- snippet: docs/snippets/x.ts -->` comment right above the fence. */
  readonly snippet: string | null;
  /** Marked `<!-- cli-example -->`: shell commands of the `shardledger` CLI, run in order. */
  readonly cliExample: boolean;
}

/** Fenced code blocks of a page, with the snippet marker that precedes each (if any). */
function codeBlocks(page: string): CodeBlock[] {
  const lines = readFileSync(join(root, page), 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  for (let index = 0; index < lines.length; index += 1) {
    const open = /^```(\w*)\s*$/.exec(lines[index] as string);
    if (open === null) continue;
    let end = index + 1;
    while (end < lines.length && lines[end] !== '```') end += 1;
    let above = index - 1;
    while (above >= 0 && (lines[above] as string).trim() === '') above -= 1;
    const marker =
      above >= 0 ? /^<!-- snippet: (\S+) -->$/.exec((lines[above] as string).trim()) : null;
    blocks.push({
      page,
      line: index + 1,
      lang: open[1] ?? '',
      body: `${lines.slice(index + 1, end).join('\n')}\n`,
      snippet: marker?.[1] ?? null,
      cliExample: above >= 0 && (lines[above] as string).trim() === '<!-- cli-example -->',
    });
    index = end;
  }
  return blocks;
}

/** GitHub's heading anchors: lowercase, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(page: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of readFileSync(page, 'utf8').split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading === null) continue;
    const text = (heading[1] as string).replace(/`/g, '').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const slug = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** Inline links `[text](target)` outside code, with their line numbers. */
function linksOf(page: string): { target: string; line: number }[] {
  const links: { target: string; line: number }[] = [];
  let fenced = false;
  readFileSync(join(root, page), 'utf8')
    .split('\n')
    .forEach((line, index) => {
      if (line.startsWith('```')) fenced = !fenced;
      if (fenced) return;
      const prose = line.replace(/`[^`]*`/g, '');
      for (const match of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g))
        links.push({ target: match[1] as string, line: index + 1 });
    });
  return links;
}

const pages = markdownFiles();
const blocks = pages.flatMap(codeBlocks);

describe('code in the docs', () => {
  it('marks every TypeScript block on the pages we own as a snippet', () => {
    const unmarked = blocks.filter(
      (block) => strictPages.has(block.page) && block.lang === 'ts' && block.snippet === null,
    );
    expect(unmarked.map((block) => `${block.page}:${block.line}`)).toEqual([]);
  });

  it('embeds each snippet verbatim, so the page and the tested file cannot drift', () => {
    const marked = blocks.filter((block) => block.snippet !== null);
    expect(marked.length).toBeGreaterThan(0);
    for (const block of marked) {
      const path = join(root, block.snippet as string);
      expect(existsSync(path), `${block.page}:${block.line} names ${block.snippet}`).toBe(true);
      expect(block.body, `${block.page}:${block.line} differs from ${block.snippet}`).toBe(
        readFileSync(path, 'utf8'),
      );
    }
  });

  it('has a page that shows every snippet file', () => {
    const shown = new Set(
      blocks.flatMap((block) => (block.snippet === null ? [] : [block.snippet])),
    );
    const files = readdirSync(snippetsDir).filter(
      (name) => name.endsWith('.ts') && !name.endsWith('.d.ts'),
    );
    expect(
      files.filter((name) => !shown.has(`docs/snippets/${name}`) && name !== 'sizing.ts'),
    ).toEqual([]);
  });
});

describe('snippets run against the built Ledger', () => {
  let cleanup: (() => Promise<void>) | null = null;
  afterEach(async () => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
    if (cleanup !== null) await cleanup();
    cleanup = null;
  });

  // shutdown.ts waits for a signal: embedding.int.test.ts runs it in a child process and sends it.
  const files = readdirSync(snippetsDir).filter(
    (name) => name.endsWith('.ts') && !name.endsWith('.d.ts') && name !== 'shutdown.ts',
  );
  for (const name of files) {
    it(`runs docs/snippets/${name} to completion on a fresh data dir`, async () => {
      const fresh = await tempDir('docs');
      cleanup = fresh.cleanup;
      vi.stubEnv('SHARDLEDGER_DIR', fresh.dir);
      for (const [key, value] of Object.entries(snippetEnv[name] ?? {})) vi.stubEnv(key, value);
      vi.spyOn(console, 'log').mockImplementation(() => undefined);
      // Top-level await: the import settles when the snippet has finished (or failed).
      await import(pathToFileURL(join(snippetsDir, name)).href);
    });
  }
});

describe('CLI examples run against the built CLI', () => {
  const cli = join(root, 'packages', 'cli', 'dist', 'main.js');
  const examples = blocks.filter((block) => block.cliExample);

  it('has at least one CLI example', () => {
    expect(examples.length).toBeGreaterThan(0);
  });

  for (const block of examples) {
    // `npm test` builds the CLI (tsc -b) before any test runs, so it is always there.
    it(`runs every command of ${block.page}:${block.line} with exit code 0`, async () => {
      expect(existsSync(cli), `${cli} is built by tsc -b`).toBe(true);
      const { dir, cleanup } = await tempDir('docs-cli');
      try {
        const env = { ...process.env, SHARDLEDGER_DIR: join(dir, 'data') };
        const commands = block.body
          .split('\n')
          .map((line) => line.replace(/\s+#.*$/, '').trim())
          .filter((line) => line !== '');
        for (const command of commands) {
          // `npx shardledger ...` (how a project that installed the CLI runs it) runs the same.
          const words = command.replace(/^npx /, '').split(/\s+/);
          expect(words[0], `${block.page}:${block.line}: ${command}`).toBe('shardledger');
          const run = spawnSync(process.execPath, [cli, ...words.slice(1)], {
            env,
            encoding: 'utf8',
            timeout: 60_000,
          });
          expect(run.status, `${command}\n${run.stdout}${run.stderr}`).toBe(0);
        }
      } finally {
        await cleanup();
      }
    });
  }
});

describe('links in the docs', () => {
  it('point at files that exist, and at headings that exist', () => {
    const broken: string[] = [];
    for (const page of pages) {
      for (const { target, line } of linksOf(page)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
        const [path = '', anchor] = target.split('#');
        const file =
          path === '' ? join(root, page) : resolve(dirname(join(root, page)), decodeURI(path));
        const where = `${page}:${line} -> ${target}`;
        if (!existsSync(file)) {
          broken.push(`${where} (no such file)`);
          continue;
        }
        if (
          anchor !== undefined &&
          anchor !== '' &&
          statSync(file).isFile() &&
          file.endsWith('.md') &&
          !anchorsOf(file).has(anchor)
        ) {
          broken.push(`${where} (no heading #${anchor} in ${relative(root, file)})`);
        }
      }
    }
    expect(broken).toEqual([]);
  });
});
