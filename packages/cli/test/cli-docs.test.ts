// docs/cli.md cannot rot: every shell block on it is run, in page order, in one fresh temp dir with
// the built CLI. Markers (an HTML comment on the line above the fence):
//   <!-- cli-run -->            ```sh block: each line is `shardledger ...` (optionally several
//                               joined by `&&`); it must exit 0, or what a trailing
//                               `# exit N [CODE]` says (stderr then names CODE).
//   <!-- cli-skip: reason -->   not run; allowed only for `shardledger bench` lines.
//   <!-- cli-file: NAME -->     the block's text is written to NAME in the temp dir at that point.
//   <!-- cli-usage -->          ```text synopsis: every --option it names is in that command's --help.
// Any shell-like block (sh, bash, shell, console, zsh or no language) without cli-run/cli-skip fails.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '@shardledger/ledger-core/testing';
import { describe, expect, it } from 'vitest';
import { cliInProcess } from './cli-in-process.js';

const page = 'docs/cli.md';
const pagePath = fileURLToPath(new URL(`../../../${page}`, import.meta.url));
const shellLangs = new Set(['', 'sh', 'bash', 'shell', 'console', 'zsh']);

interface Block {
  readonly line: number;
  readonly lang: string;
  readonly lines: string[];
  readonly marker: string | null;
}

function blocks(): Block[] {
  const lines = readFileSync(pagePath, 'utf8').split('\n');
  const found: Block[] = [];
  for (let index = 0; index < lines.length; index += 1) {
    const open = /^(\s*)```([\w-]*)\s*$/.exec(lines[index] as string);
    if (open === null) continue;
    const indent = (open[1] as string).length;
    let end = index + 1;
    while (end < lines.length && (lines[end] as string).trim() !== '```') end += 1;
    if (end === lines.length) throw new Error(`${page}:${index + 1}: unclosed fence`);
    let above = index - 1;
    while (above >= 0 && (lines[above] as string).trim() === '') above -= 1;
    const comment =
      above >= 0 ? /^<!--\s*(cli-[\s\S]*?)\s*-->$/.exec((lines[above] as string).trim()) : null;
    found.push({
      line: index + 1,
      lang: open[2] as string,
      lines: lines
        .slice(index + 1, end)
        .map((text) => text.slice(Math.min(indent, text.length - text.trimStart().length))),
      marker: comment === null ? null : (comment[1] as string),
    });
    index = end;
  }
  return found;
}

interface Step {
  readonly where: string;
  readonly command: string;
  readonly words: string[];
  readonly exit: number;
  readonly code: string | null;
}

/** A cli-run block's lines as commands with their expected exit code (and error code). */
function steps(block: Block): Step[] {
  const result: Step[] = [];
  block.lines.forEach((text, offset) => {
    const where = `${page}:${block.line + 1 + offset}`;
    const trimmed = text.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const hash = trimmed.indexOf(' #');
    const command = (hash === -1 ? trimmed : trimmed.slice(0, hash)).trim();
    const expect =
      hash === -1
        ? null
        : /^#\s*exit\s+(\d+)(?:\s+([A-Z_]+))?\s*$/.exec(trimmed.slice(hash + 1).trim());
    if (hash !== -1 && expect === null)
      throw new Error(`${where}: a trailing comment must be '# exit N [CODE]'`);
    const parts = command.split(/\s+&&\s+/);
    if (expect !== null && parts.length > 1)
      throw new Error(`${where}: '# exit' on a line with '&&' is ambiguous`);
    for (const part of parts) {
      if (/[|;<>$`'"\\]/.test(part))
        throw new Error(
          `${where}: only plain 'shardledger ...' commands (and &&) are supported: ${part}`,
        );
      const words = part.split(/\s+/);
      if (words[0] !== 'shardledger')
        throw new Error(`${where}: not a shardledger command: ${part}`);
      result.push({
        where,
        command: part,
        words: words.slice(1),
        exit: expect === null ? 0 : Number(expect[1]),
        code: expect?.[2] ?? null,
      });
    }
  });
  return result;
}

const all = blocks();

describe('docs/cli.md', () => {
  it('marks every shell block as run or (bench only) skipped, and only uses known markers', () => {
    const problems: string[] = [];
    for (const block of all) {
      const where = `${page}:${block.line}`;
      const marker = block.marker;
      if (marker !== null && !/^(cli-run|cli-usage|cli-skip: \S.*|cli-file: [\w.-]+)$/.test(marker))
        problems.push(`${where}: unknown marker '${marker}'`);
      if (
        shellLangs.has(block.lang) &&
        !(marker === 'cli-run' || marker?.startsWith('cli-skip: '))
      ) {
        problems.push(
          `${where}: \`\`\`${block.lang} block without <!-- cli-run --> or <!-- cli-skip: reason --> (fence output and synopses as \`\`\`text)`,
        );
      }
      if ((marker === 'cli-run' || marker?.startsWith('cli-skip')) && !shellLangs.has(block.lang))
        problems.push(`${where}: ${marker} on a \`\`\`${block.lang} block`);
      if (marker === 'cli-usage' && block.lang !== 'text')
        problems.push(`${where}: cli-usage on a \`\`\`${block.lang} block`);
      if (marker?.startsWith('cli-skip')) {
        for (const text of block.lines) {
          if (text.trim() !== '' && !/^shardledger bench(\s|$)/.test(text.trim()))
            problems.push(`${where}: only 'shardledger bench' may be skipped: ${text.trim()}`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(all.filter((block) => block.marker === 'cli-run').length).toBeGreaterThan(5);
  });

  // About 60 commands, most opening the ledger's shard workers. They run inside this process
  // (cli-in-process.ts): a child process each took 105-169 s beside the rest of the suite.
  it('runs every cli-run block in order in one fresh dir, with the exit codes the page states', async () => {
    const { dir: cwd, cleanup } = await tempDir('cli-docs');
    try {
      for (const block of all) {
        if (block.marker?.startsWith('cli-file: '))
          writeFileSync(
            join(cwd, block.marker.slice('cli-file: '.length)),
            `${block.lines.join('\n')}\n`,
          );
        if (block.marker !== 'cli-run') continue;
        for (const step of steps(block)) {
          const run = await cliInProcess(cwd, step.words);
          const context = `${step.where}: ${step.command}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
          expect(run.code, context).toBe(step.exit);
          if (step.code !== null)
            expect(run.stderr, context).toContain(`shardledger: ${step.code}: `);
        }
      }
    } finally {
      await cleanup();
    }
  }, 300_000);

  it('names in each synopsis only options that the command has', async () => {
    const synopses: string[] = [];
    for (const block of all.filter((candidate) => candidate.marker === 'cli-usage')) {
      for (const text of block.lines) {
        if (/^\s/.test(text) && synopses.length > 0)
          synopses[synopses.length - 1] += ` ${text.trim()}`;
        else if (text.trim() !== '') synopses.push(text.trim());
      }
    }
    expect(synopses.length).toBeGreaterThan(5);
    const missing = await Promise.all(
      synopses.map(async (synopsis) => {
        const words = synopsis.split(/\s+/);
        expect(words[0], synopsis).toBe('shardledger');
        const path: string[] = [];
        for (const word of words.slice(1)) {
          if (!/^[a-z][a-z-]*$/.test(word)) break;
          path.push(word);
        }
        const { stdout: help } = await cliInProcess(process.cwd(), [...path, '--help']);
        expect(help, synopsis).toContain('Usage: shardledger');
        const options = [...synopsis.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)].map(
          (match) => match[0],
        );
        return options
          .filter((option) => !new RegExp(`(?<![\\w-])${option}(?![\\w-])`).test(help))
          .map((option) => `${synopsis}: ${option}`);
      }),
    );
    expect(missing.flat()).toEqual([]);
  });
});
