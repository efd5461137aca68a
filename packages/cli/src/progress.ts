// A one-line status on stderr for long operations (verify, export), redrawn in place, only when
// stderr is a terminal: pipes, files and CI logs get nothing, so scripts see clean output.

const redrawIntervalMs = 200;

export interface StatusLine {
  /** Cheap to call often: redraws at most every 200 ms. */
  update(text: string): void;
  /** Clears the line. */
  done(): void;
}

export function createStatusLine(stream: NodeJS.WriteStream = process.stderr): StatusLine {
  if (stream.isTTY !== true) return { update: () => undefined, done: () => undefined };
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
