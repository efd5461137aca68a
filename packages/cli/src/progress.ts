// Progress of long operations (verify, export, project) on stderr. By default a one-line status,
// redrawn in place, only when stderr is a terminal: pipes, files and CI logs get nothing. The
// environment variable SHARDLEDGER_PROGRESS changes that: `lines` writes plain progress lines
// (at most one a second) wherever stderr goes, for logs and supervisors; `off` silences it.
// Progress never goes to stdout, so scripts reading results are unaffected.

import { usageError } from './errors.js';

const redrawIntervalMs = 200;
const lineIntervalMs = 1_000;

export const progressModes = ['auto', 'lines', 'off'] as const;
export type ProgressMode = (typeof progressModes)[number];

/** The mode SHARDLEDGER_PROGRESS asks for ('auto' when unset). */
export function progressMode(env: NodeJS.ProcessEnv = process.env): ProgressMode {
  const value = env['SHARDLEDGER_PROGRESS'];
  if (value === undefined || value === '') return 'auto';
  const mode = progressModes.find((known) => known === value);
  if (mode === undefined)
    throw usageError(
      `SHARDLEDGER_PROGRESS must be one of ${progressModes.join(', ')}, got '${value}'`,
    );
  return mode;
}

export interface StatusLine {
  /** Cheap to call often: redraws at most every 200 ms (a line a second in `lines` mode). */
  update(text: string): void;
  /** Clears the line. */
  done(): void;
}

const silent: StatusLine = { update: () => undefined, done: () => undefined };

/** Plain lines, `shardledger: <text>`, the first at once and then at most one a second. */
function lineWriter(stream: NodeJS.WritableStream): StatusLine {
  let lastWriteMs = Number.NEGATIVE_INFINITY;
  return {
    update(text) {
      const now = Date.now();
      if (now - lastWriteMs < lineIntervalMs) return;
      lastWriteMs = now;
      stream.write(`shardledger: ${text}\n`);
    },
    done: () => undefined,
  };
}

export function createStatusLine(stream: NodeJS.WriteStream = process.stderr): StatusLine {
  const mode = progressMode();
  if (mode === 'off') return silent;
  if (stream.isTTY !== true) return mode === 'lines' ? lineWriter(stream) : silent;
  let lastDrawMs = 0;
  let drawn = false;
  return {
    update(text) {
      const now = Date.now();
      if (now - lastDrawMs < redrawIntervalMs) return;
      lastDrawMs = now;
      const width = Math.max(20, (stream.columns ?? 80) - 1);
      stream.write(`\r\x1b[2K${text.slice(0, width)}`);
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\r\x1b[2K');
      drawn = false;
    },
  };
}

/** Redraws `text(elapsed seconds)` every 200 ms until the promise settles (for single long
 * calls). */
export async function withTicker<T>(
  text: (elapsedS: string) => string,
  work: Promise<T>,
): Promise<T> {
  const line = createStatusLine();
  const startedMs = Date.now();
  line.update(text('0.0'));
  const timer = setInterval(
    () => line.update(text(((Date.now() - startedMs) / 1000).toFixed(1))),
    redrawIntervalMs,
  );
  try {
    return await work;
  } finally {
    clearInterval(timer);
    line.done();
  }
}
