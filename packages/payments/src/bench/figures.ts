// What the payments bench measures and how it prints it: one figure per scenario, each naming
// its scenario, its concurrency (payments in flight or connections) and its durability.

export interface BenchFigure {
  readonly scenario: 'in-process payments' | 'HTTP balance_transfer' | 'webhook deliveries';
  readonly unit: 'payments/s' | 'requests/s' | 'deliveries/s';
  readonly perSecond: number;
  readonly count: number;
  readonly errors: number;
  readonly windowS: number;
  readonly concurrency: number;
  readonly concurrencyKind: 'payments in flight' | 'connections' | 'deliveries in flight';
  readonly durability: string;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  /** The floor this figure is held to on a 2-core machine, where there is one. */
  readonly floorPerSecond: number | null;
  readonly p99MsMax: number | null;
  readonly method: string;
}

/** The q-quantile (0..1) of samples sorted ascending; null for none. */
export function quantile(sorted: Float64Array, q: number): number | null {
  if (sorted.length === 0) return null;
  const index = Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

/** Latency samples in ms, kept up to a bound so a long run cannot grow without limit. */
export class LatencySamples {
  static readonly samplesMax = 2_000_000;
  readonly #samples = new Float64Array(LatencySamples.samplesMax);
  #count = 0;

  add(ms: number): void {
    if (this.#count < LatencySamples.samplesMax) this.#samples[this.#count++] = ms;
  }

  sorted(): Float64Array {
    return this.#samples.slice(0, this.#count).sort();
  }
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const ms = (value: number | null) => (value === null ? '-' : value.toFixed(1));

function verdict(figure: BenchFigure): string {
  if (figure.floorPerSecond === null) return '-';
  const rateMet = figure.perSecond >= figure.floorPerSecond;
  const floor = `floor ${integer.format(figure.floorPerSecond)}/s: ${rateMet ? 'met' : 'not met'}`;
  if (figure.p99MsMax === null || figure.p99Ms === null) return floor;
  const p99Met = figure.p99Ms < figure.p99MsMax;
  return `${floor}; p99 < ${figure.p99MsMax} ms: ${p99Met ? 'met' : 'not met'}`;
}

/** The figures as a Markdown table, then how each was measured. */
export function figuresTable(figures: readonly BenchFigure[]): string {
  const rows = figures.map((figure) =>
    [
      figure.scenario,
      `${integer.format(figure.perSecond)} ${figure.unit}`,
      `${figure.concurrency} ${figure.concurrencyKind}`,
      figure.durability,
      ms(figure.p50Ms),
      ms(figure.p99Ms),
      integer.format(figure.count),
      String(figure.errors),
      figure.windowS.toFixed(1),
      verdict(figure),
    ].join(' | '),
  );
  return [
    '| scenario | rate | concurrency | durability | p50 ms | p99 ms | count | errors | window s | against the floor |',
    '|---|--:|--:|---|--:|--:|--:|--:|--:|---|',
    ...rows.map((row) => `| ${row} |`),
    '',
    ...figures.map((figure) => `- **${figure.scenario}**: ${figure.method}`),
  ].join('\n');
}
