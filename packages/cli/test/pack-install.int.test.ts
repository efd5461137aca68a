// Goal: the five packages install and work as a new user gets them: packed by `npm pack`,
// installed into a project outside the repository, a strict TypeScript app (no skipLibCheck)
// type-checks against their declarations and runs, and `npx shardledger` is on the project's PATH.
// An application of the library packages alone has no better-sqlite3 (an optional peer): it opens
// a Ledger and books transfers, and opening the read model answers DEPENDENCY_MISSING.
// Method: real npm, tsc and node child processes in a temp dir.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const packageDirs = [
  'ledger-core',
  'shard-router',
  'bench',
  'reconciliation',
  'payments',
  'cli',
].map((name) => `packages/${name}`);
const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
const appSource = fileURLToPath(new URL('fixtures/packed-app.ts', import.meta.url));
const librarySource = fileURLToPath(new URL('fixtures/packed-app-no-sqlite.ts', import.meta.url));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        cwd,
        timeout: 120_000,
        maxBuffer: 16 * 1024 * 1024,
        // Native builds use the local Node headers (there may be no network to nodejs.org).
        env: { ...process.env, npm_config_nodedir: process.env['npm_config_nodedir'] ?? '/usr' },
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function expectSuccess(result: Run, what: string): void {
  if (result.code !== 0)
    throw new Error(`${what} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
}

let scratch: string;
let app: string;
let library: string;
let packs: string;

/** `npm install` in `root` from the local cache where it can, without install scripts. */
async function install(root: string): Promise<void> {
  const installed = await run(
    'npm',
    ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund'],
    root,
  );
  expectSuccess(installed, `npm install in ${root}`);
}

/** A scratch project of `source` (as app.ts) depending on the given tarballs, checked strictly. */
async function writeProject(
  root: string,
  source: string,
  dependencies: Record<string, string>,
): Promise<void> {
  const nodeTypes = JSON.parse(
    await readFile(join(repoRoot, 'node_modules/@types/node/package.json'), 'utf8'),
  ) as { version: string };
  await copyFile(source, join(root, 'app.ts'));
  await writeFile(
    join(root, 'package.json'),
    JSON.stringify({
      name: 'packed-app',
      private: true,
      type: 'module',
      dependencies,
      devDependencies: { '@types/node': nodeTypes.version },
    }),
  );
  await writeFile(
    join(root, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        types: ['node'],
        strict: true,
        noUncheckedIndexedAccess: true,
        exactOptionalPropertyTypes: true,
        skipLibCheck: false,
        outDir: 'out',
      },
      files: ['app.ts'],
    }),
  );
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'shardledger-pack-'));
  packs = join(scratch, 'packs');
  app = join(scratch, 'app');
  library = join(scratch, 'library-app');
  await mkdir(packs);
  await mkdir(app);
  await mkdir(library);
  const packed = await run(
    'npm',
    ['pack', ...packageDirs.flatMap((dir) => ['--workspace', dir]), '--pack-destination', packs],
    repoRoot,
  );
  expectSuccess(packed, 'npm pack');
  const tarballs = await readdir(packs);
  expect(tarballs.sort()).toEqual([
    'shardledger-bench-0.1.0.tgz',
    'shardledger-cli-0.1.0.tgz',
    'shardledger-ledger-core-0.1.0.tgz',
    'shardledger-payments-0.1.0.tgz',
    'shardledger-reconciliation-0.1.0.tgz',
    'shardledger-shard-router-0.1.0.tgz',
  ]);
  const dependencies = Object.fromEntries(
    tarballs.map((file) => [
      `@shardledger/${file.replace(/^shardledger-(.*)-0\.1\.0\.tgz$/, '$1')}`,
      `file:${join(packs, file)}`,
    ]),
  );
  await writeProject(app, appSource, dependencies);
  // The library-only project: ledger-core and shard-router alone.
  await writeProject(
    library,
    librarySource,
    Object.fromEntries(
      ['ledger-core', 'shard-router'].map((name) => [
        `@shardledger/${name}`,
        `file:${join(packs, `shardledger-${name}-0.1.0.tgz`)}`,
      ]),
    ),
  );
  // Install scripts are skipped: lmdb and msgpackr load prebuilt binaries from their packages,
  // and better-sqlite3's addon, which its script compiles (about a minute), is the one the
  // workspace built, for the same version and the same Node. The two installs run at once: they
  // mostly wait on the disk and the cache.
  await Promise.all([install(app), install(library)]);
  const versionOf = async (root: string): Promise<string> =>
    (
      JSON.parse(
        await readFile(join(root, 'node_modules/better-sqlite3/package.json'), 'utf8'),
      ) as {
        version: string;
      }
    ).version;
  expect(await versionOf(app)).toBe(await versionOf(repoRoot));
  const addon = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node';
  await mkdir(dirname(join(app, addon)), { recursive: true });
  await copyFile(join(repoRoot, addon), join(app, addon));
}, 150_000);

afterAll(async () => {
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
});

// tsc over every declaration of the packages and their dependencies takes a while on a busy
// machine (the suite runs two test files at once on two cores).
describe('the packed packages', { timeout: 120_000 }, () => {
  it('ship their README, LICENSE, compiled code and declarations, and no build state', async () => {
    for (const name of ['ledger-core', 'shard-router', 'bench', 'cli']) {
      const root = join(app, 'node_modules/@shardledger', name);
      const files = await readdir(root);
      expect(files).toEqual(expect.arrayContaining(['README.md', 'LICENSE', 'package.json']));
      const dist = await readdir(join(root, 'dist'));
      expect(dist).toEqual(expect.arrayContaining(['index.js', 'index.d.ts']));
      expect(dist.filter((file) => file.endsWith('.tsbuildinfo'))).toEqual([]);
    }
  });

  it('type-check a strict application without skipLibCheck, and run it', async () => {
    expectSuccess(await run(process.execPath, [tsc, '-p', '.'], app), 'tsc');
    const ran = await run(process.execPath, ['out/app.js'], app);
    expectSuccess(ran, 'the app');
    const seen = JSON.parse(ran.stdout) as Record<string, unknown>;
    expect(seen['statuses']).toEqual(['ok', 'insufficient_funds']);
    expect(seen['balance']).toBe('1000');
    expect(seen['state']).toBe('posted');
    expect(seen['projected']).toContain('"balance":"1000"');
    expect(seen['exitOk']).toBe(0);
    expect(seen['closedCode']).toBe('LEDGER_CLOSED');
    expect(seen['benchHash']).toBeTypeOf('number');
    expect(seen['chartMark']).toBe('bar');
  });

  it('put shardledger on the project PATH for npx', async () => {
    const help = await run('npx', ['--no-install', 'shardledger', '--help'], app);
    expectSuccess(help, 'npx shardledger --help');
    expect(help.stdout).toMatch(/^Usage: shardledger/m);
    const dir = join(scratch, 'cli-ledger');
    expectSuccess(await run(process.execPath, ['out/app.js', dir], app), 'the app');
    const verify = await run('npx', ['--no-install', 'shardledger', 'verify', '--dir', dir], app);
    expectSuccess(verify, 'npx shardledger verify');
  });
});

describe('the library packages without better-sqlite3', { timeout: 150_000 }, () => {
  it('open a Ledger and book transfers, and answer DEPENDENCY_MISSING for the read model', async () => {
    const modules = await readdir(join(library, 'node_modules'));
    expect(modules).toContain('lmdb');
    expect(modules).not.toContain('better-sqlite3');
    expectSuccess(await run(process.execPath, [tsc, '-p', '.'], library), 'tsc');
    const ran = await run(process.execPath, ['out/app.js'], library);
    expectSuccess(ran, 'the app');
    const seen = JSON.parse(ran.stdout) as Record<string, unknown>;
    expect(seen['statuses']).toEqual(['ok']);
    expect(seen['balance']).toBe('1000');
    expect(seen['readModelCode']).toBe('DEPENDENCY_MISSING');
    expect(seen['readModelPackage']).toBe('better-sqlite3');
  });
});
