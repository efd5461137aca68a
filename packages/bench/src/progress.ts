// Live progress line (elapsed, current TPS, p99) on stderr. On a TTY it redraws one line with
// log-update; otherwise (CI, pipes) it prints a plain line every few seconds.

import { createLogUpdate } from 'log-update';

const redrawIntervalMs = 250;
const plainIntervalMs = 5000;

export interface ProgressSample {
  readonly label: string;
  readonly elapsedMs: number;
  readonly transfers: number;
  readonly currentTps: number;
  readonly p99Ms: number;
  readonly phase: 'warm-up' | 'measure';
}

export interface Progress {
  /** Cheap to call often: renders at most every few hundred ms. */
  update(sample: ProgressSample): void;
  done(summary: string): void;
}

export function createProgress(options: {
  enabled: boolean;
  stream?: NodeJS.WriteStream;
}): Progress {
  const stream = options.stream ?? process.stderr;
  if (!options.enabled) return { update: () => undefined, done: () => undefined };
  const tty = stream.isTTY === true;
  const draw = tty ? createLogUpdate(stream) : null;
  let lastDrawMs = 0;
  return {
    update(sample) {
      const now = performance.now();
      if (now - lastDrawMs < (tty ? redrawIntervalMs : plainIntervalMs)) return;
      lastDrawMs = now;
      const line = formatSample(sample);
      if (draw !== null) draw(line);
      else stream.write(`${line}\n`);
    },
    done(summary) {
      lastDrawMs = 0;
      if (draw !== null) {
        draw(summary);
        draw.done();
      } else stream.write(`${summary}\n`);
    },
  };
}

export function formatSample(sample: ProgressSample): string {
  const seconds = (sample.elapsedMs / 1000).toFixed(1);
  const tps = Number.isFinite(sample.currentTps)
    ? Math.round(sample.currentTps).toLocaleString('en-US')
    : '-';
  const p99 = Number.isFinite(sample.p99Ms) ? `${sample.p99Ms.toFixed(2)} ms` : '-';
  return `${sample.label.padEnd(12)} ${sample.phase.padEnd(8)} ${seconds.padStart(6)} s  ${tps.padStart(11)} transfers/s  p99 ${p99}`;
}
