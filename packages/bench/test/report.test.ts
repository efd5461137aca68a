// Goal: results come out as the documented JSON, Markdown, SVG and docs section. Method: a tiny
// peers-only run through runBench, then the writers.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderCharts, runBench, scenarioNamed, updateDocsFile, writeJsonResult, writeReport, type BenchResult } from '../src/index.js';

let dir = '';
let result: BenchResult;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bench-report-'));
  result = await runBench({ scenario: scenarioNamed('standard'), durationMs: 300, warmupMs: 100, shards: 2, durability: 'relaxed', seed: 1, transfers: 8190 * 4, peers: ['memory-limit', 'sqlite'], openTarget: null, progress: false, command: 'test' });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('report', () => {
  it('writes JSON with the required fields', async () => {
    const file = join(dir, 'out', 'result.json');
    await writeJsonResult(file, result);
    const json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    for (const field of ['scenario', 'tps', 'p50Ms', 'p99Ms', 'transfers', 'durationS', 'shards', 'accounts', 'durability', 'peers', 'environment']) expect(json).toHaveProperty(field);
    expect(json).toMatchObject({ scenario: 'standard', subject: 'memory-limit', shards: 2, accounts: 10_000, durability: 'relaxed', batchSize: 8190 });
    const peers = json['peers'] as { name: string; tps: number; ratio: number }[];
    expect(peers.map((peer) => peer.name)).toEqual(['sqlite']);
    expect(peers[0]!.ratio).toBeCloseTo(result.tps / peers[0]!.tps, 6);
    expect(json['environment']).toMatchObject({ nodeVersion: process.version, batchSize: 8190 });
  });

  it('renders the charts as SVG', async () => {
    const charts = await renderCharts({ ...result, scaling: [{ shards: 1, tps: 100 }, { shards: 2, tps: 190 }] });
    expect([...charts.keys()]).toEqual(['tps-over-time.svg', 'latency.svg', 'scaling.svg']);
    for (const svg of charts.values()) expect(svg.startsWith('<svg')).toBe(true);
  });

  it('writes a Markdown report that links its charts', async () => {
    const files = await writeReport(join(dir, 'report'), result);
    const markdown = await readFile(join(dir, 'report', 'report.md'), 'utf8');
    expect(files).toContain(join(dir, 'report', 'latency.svg'));
    expect(markdown).toContain('| sqlite |');
    expect(markdown).toContain('![latency](latency.svg)');
  });

  it('regenerates only the marked section of the docs page', async () => {
    const file = join(dir, 'benchmarks.md');
    await writeFile(file, '# Benchmarks\n\nHand-written prose.\n');
    await updateDocsFile(file, result);
    await updateDocsFile(file, result);
    const page = await readFile(file, 'utf8');
    expect(page).toContain('Hand-written prose.');
    expect(page.match(/bench:results:start/g)).toHaveLength(1);
    expect(page).toContain('| sqlite |');
  });
});

describe('docs/benchmarks.md', () => {
  it('documents every scenario and keeps the generated-section markers', async () => {
    const { scenarioNames } = await import('../src/index.js');
    const { docsStartMarker, docsEndMarker } = await import('../src/docs-section.js');
    const page = await readFile(new URL('../../../docs/benchmarks.md', import.meta.url), 'utf8');
    for (const name of scenarioNames) expect(page).toContain(`**\`${name}\`**`);
    expect(page).toContain(docsStartMarker);
    expect(page).toContain(docsEndMarker);
  });
});
