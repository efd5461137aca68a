// SVG charts of a result, rendered headless with vega-lite -> vega `view.toSVG()` (no browser,
// no canvas: the 'none' renderer and SVG string output need neither).

import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { BenchResult } from './result.js';

const width = 640;
const height = 320;

/** A vega-lite specification (https://vega.github.io/vega-lite/docs/spec.html), as plain data.
 * Not vega-lite's own TopLevelSpec type: its declarations fail a strict type-check without
 * skipLibCheck, and this package's must not make an application's check fail. */
export type ChartSpec = Readonly<Record<string, unknown>>;

export function renderSvg(spec: ChartSpec): Promise<string> {
  return renderSpec(spec as unknown as TopLevelSpec);
}

async function renderSpec(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

interface Runner {
  readonly name: string;
  readonly tpsPerSecond: readonly number[];
}

function runnersOf(result: BenchResult): Runner[] {
  const peers = result.peers.filter((peer) => peer.skipped === undefined);
  return [{ name: result.subject, tpsPerSecond: result.tpsPerSecond }, ...peers];
}

function tpsOverTimeSpec(result: BenchResult): TopLevelSpec {
  const values = runnersOf(result).flatMap((runner) =>
    runner.tpsPerSecond.map((tps, second) => ({
      runner: runner.name,
      second: second + 1,
      tps: Math.max(tps, 1),
    })),
  );
  return {
    title: `Transfers per second over the measured window (${result.scenario})`,
    width,
    height,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'second', type: 'quantitative', title: 'second of the window' },
      y: {
        field: 'tps',
        type: 'quantitative',
        title: 'transfers/s (log scale)',
        scale: { type: 'log' },
      },
      color: { field: 'runner', type: 'nominal' },
    },
  };
}

function latencySpec(result: BenchResult): TopLevelSpec {
  const rows = [
    {
      name: result.subject,
      p50Ms: result.p50Ms,
      p99Ms: result.p99Ms,
      p999Ms: result.p999Ms,
      maxMs: result.maxMs,
    },
    ...result.peers.filter((peer) => peer.skipped === undefined),
  ];
  const values = rows
    .flatMap((row) => [
      { runner: row.name, percentile: 'p50', ms: row.p50Ms },
      { runner: row.name, percentile: 'p99', ms: row.p99Ms },
      { runner: row.name, percentile: 'p99.9', ms: row.p999Ms },
      { runner: row.name, percentile: 'max', ms: row.maxMs },
    ])
    .filter(
      (value): value is { runner: string; percentile: string; ms: number } =>
        value.ms !== null && value.ms > 0,
    );
  // Bars on a log scale need a base above 0 (from 0 they have no height): the power of ten at or
  // below the smallest value.
  const smallestMs = values.reduce(
    (smallest, value) => Math.min(smallest, value.ms),
    Number.POSITIVE_INFINITY,
  );
  const baseMs = Number.isFinite(smallestMs) ? 10 ** Math.floor(Math.log10(smallestMs)) : 1;
  return {
    title: 'Latency of one call (a batch; one transaction for PostgreSQL)',
    width,
    height,
    data: { values },
    mark: 'bar',
    encoding: {
      x: {
        field: 'percentile',
        type: 'nominal',
        sort: ['p50', 'p99', 'p99.9', 'max'],
        title: null,
      },
      xOffset: { field: 'runner', type: 'nominal' },
      y: {
        field: 'ms',
        type: 'quantitative',
        title: 'milliseconds (log scale)',
        scale: { type: 'log', domainMin: baseMs },
      },
      y2: { datum: baseMs },
      color: { field: 'runner', type: 'nominal' },
    },
  };
}

function scalingSpec(result: BenchResult): TopLevelSpec {
  return {
    title: `${result.subject}: throughput by shard count`,
    width,
    height,
    data: { values: result.scaling.map((point) => ({ shards: point.shards, tps: point.tps })) },
    mark: { type: 'line', point: true },
    encoding: {
      x: {
        field: 'shards',
        type: 'quantitative',
        title: 'shards',
        scale: { type: 'log', base: 2 },
      },
      y: { field: 'tps', type: 'quantitative', title: 'transfers/s' },
    },
  };
}

function crossShardSpec(result: BenchResult): TopLevelSpec {
  return {
    title: `${result.subject}: throughput by share of cross-shard transfers`,
    width,
    height,
    data: {
      values: result.crossShardSweep.map((point) => ({
        percent: point.crossShardRatio * 100,
        tps: point.tps,
      })),
    },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'percent', type: 'quantitative', title: '% of transfers crossing shards' },
      y: { field: 'tps', type: 'quantitative', title: 'transfers/s' },
    },
  };
}

/** The charts of a result, by file name. The scaling chart only when there are scaling points. */
export async function renderCharts(result: BenchResult): Promise<Map<string, string>> {
  const charts = new Map<string, string>();
  charts.set('tps-over-time.svg', await renderSpec(tpsOverTimeSpec(result)));
  charts.set('latency.svg', await renderSpec(latencySpec(result)));
  if (result.scaling.length > 0) charts.set('scaling.svg', await renderSpec(scalingSpec(result)));
  if ((result.crossShardSweep ?? []).length > 0)
    charts.set('cross-shard.svg', await renderSpec(crossShardSpec(result)));
  return charts;
}
