// Runs the built CLI (dist/main.js) inside the test process instead of a child process, for tests
// about a command's output and exit code rather than the process boundary: a child process pays
// Node's start and the CLI's module loading (about half a second of CPU) on every command.
// dist/main.js reads process.argv, process.cwd() and SHARDLEDGER_DIR, writes to process.stdout and
// process.stderr and sets process.exitCode when its command ends; each run imports it afresh
// (a new module URL) with those set for the run, captures the two streams and restores them all.
// Runs are queued one at a time, since they share the process. The test files that keep child
// processes (cli-helpers.ts `cli`) cover the real binary's start, signals and exit.
import { pathToFileURL } from 'node:url';
import { mainPath, type CliRun } from './cli-helpers.js';

const mainUrl = pathToFileURL(mainPath).href;
let runCount = 0;
let queue: Promise<unknown> = Promise.resolve();

type Write = typeof process.stdout.write;

/** A `write` that appends to `sink` and reports success, as a pipe with room would. */
function capture(sink: string[]): Write {
  return ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    sink.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const callback = rest.find((argument) => typeof argument === 'function') as
      ((error?: Error | null) => void) | undefined;
    if (callback !== undefined) queueMicrotask(() => callback(null));
    return true;
  }) as Write;
}

async function runOnce(cwd: string, args: readonly string[]): Promise<CliRun> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const saved = {
    argv: process.argv,
    cwd: process.cwd(),
    exitCode: process.exitCode,
    dir: process.env['SHARDLEDGER_DIR'],
    stdoutWrite: Object.getOwnPropertyDescriptor(process.stdout, 'write'),
    stderrWrite: Object.getOwnPropertyDescriptor(process.stderr, 'write'),
    stderrTty: Object.getOwnPropertyDescriptor(process.stderr, 'isTTY'),
    stdoutErrorListeners: process.stdout.listeners('error'),
  };
  runCount += 1;
  try {
    process.argv = [process.execPath, mainPath, ...args];
    process.chdir(cwd);
    process.exitCode = undefined;
    delete process.env['SHARDLEDGER_DIR'];
    // As for a child whose stderr is a pipe: no progress line drawn in place.
    Object.defineProperty(process.stderr, 'isTTY', { value: false, configurable: true });
    Object.defineProperty(process.stdout, 'write', { value: capture(stdout), configurable: true });
    Object.defineProperty(process.stderr, 'write', { value: capture(stderr), configurable: true });
    await import(`${mainUrl}?run=${runCount}`);
    const code = process.exitCode ?? 0;
    return { code: Number(code), stdout: stdout.join(''), stderr: stderr.join('') };
  } finally {
    restore(process.stdout, 'write', saved.stdoutWrite);
    restore(process.stderr, 'write', saved.stderrWrite);
    restore(process.stderr, 'isTTY', saved.stderrTty);
    // main.js adds an EPIPE guard to stdout on every import; keep the listener list as it was.
    for (const listener of process.stdout.listeners('error')) {
      if (!saved.stdoutErrorListeners.includes(listener))
        process.stdout.off('error', listener as (error: Error) => void);
    }
    if (saved.dir === undefined) delete process.env['SHARDLEDGER_DIR'];
    else process.env['SHARDLEDGER_DIR'] = saved.dir;
    process.exitCode = saved.exitCode;
    process.chdir(saved.cwd);
    process.argv = saved.argv;
  }
}

function restore(target: object, key: string, descriptor: PropertyDescriptor | undefined): void {
  if (descriptor === undefined) Reflect.deleteProperty(target, key);
  else Object.defineProperty(target, key, descriptor);
}

/** Runs `shardledger ...args` in `cwd` inside this process (SHARDLEDGER_DIR unset), one at a time. */
export function cliInProcess(cwd: string, args: readonly string[]): Promise<CliRun> {
  const result = queue.then(() => runOnce(cwd, args));
  queue = result.catch(() => undefined);
  return result;
}
