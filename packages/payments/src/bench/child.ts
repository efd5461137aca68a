// The bench's other process (load-main.js): started, read line by line as JSON, always stopped.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const loadMain = fileURLToPath(new URL('./load-main.js', import.meta.url));

export interface BenchChild {
  /** The next line the child prints, parsed. */
  readonly nextLine: () => Promise<unknown>;
  /** Ends the child (SIGTERM, then SIGKILL after 2 s) and waits for it. */
  readonly stop: () => Promise<void>;
}

export function startBenchChild(args: readonly string[]): BenchChild {
  const child: ChildProcess = spawn(process.execPath, [loadMain, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return {
    nextLine: async () => {
      const next = await lines.next();
      if (next.done === true) throw new Error(`the bench's load process ended: ${stderr}`);
      return JSON.parse(next.value) as unknown;
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
