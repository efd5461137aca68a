// Goal: a Ledger embeds in an application's process like a file or a socket does: a process done
// with it exits without close(), and the documented SIGTERM handler closes it cleanly while calls
// are in flight, even when the signal comes twice. Method: real child Node processes running the
// compiled package on a temp dir, then the ledger reopened here to check what they wrote.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tempDir } from '@shardledger/ledger-core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ledger, limits } from '../src/index.js';

// Child processes run the compiled package: Node 20 cannot run the .ts source.
const compiled = fileURLToPath(new URL('../dist/index.js', import.meta.url));

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir('embed'));
});
afterEach(async () => {
  await cleanup();
});

interface Child {
  readonly process: ChildProcess;
  /** Lines printed so far (JSON each). */
  readonly lines: unknown[];
  /** Resolves with the exit code once the child exited (null: killed by `exitTimeoutMs`). */
  readonly exited: Promise<number | null>;
  /** Resolves once a line matching `test` was printed. */
  waitForLine(test: (line: unknown) => boolean): Promise<void>;
}

/** Runs `body` as an ES module in a child Node process with the package's `Ledger` and
 * `isLedgerError` imported and `dir` defined; the child is SIGKILLed after `exitTimeoutMs`. */
function runChild(body: string, exitTimeoutMs: number): Child {
  const script = `import { Ledger, isLedgerError } from ${JSON.stringify(compiled)};\nconst dir = ${JSON.stringify(dir)};\n${body}`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: unknown[] = [];
  const listeners = new Set<() => void>();
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const complete = buffered.split('\n');
    buffered = complete.pop() ?? '';
    for (const line of complete) if (line.trim() !== '') lines.push(JSON.parse(line));
    for (const listener of listeners) listener();
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), exitTimeoutMs);
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve(code);
    });
  });
  return {
    process: child,
    lines,
    exited,
    waitForLine: (test) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (!lines.some(test)) return;
          listeners.delete(check);
          resolve();
        };
        listeners.add(check);
        check();
        void exited.then(() =>
          reject(new Error(`exited before the line: ${JSON.stringify(lines)}`)),
        );
      }),
  };
}

/** Transfers from `bank` to `alice-N` of 1 each, two shards, so some run as sagas. */
const setup = `
const ledger = await Ledger.open({ dir, shards: 2, durability: 'strict' });
await ledger.createAccounts([{ id: 'bank', currency: 'USD' },
  ...Array.from({ length: 8 }, (_, n) => ({ id: 'alice-' + n, currency: 'USD' }))]);
let next = 0;
const batch = () => Array.from({ length: 16 }, () => {
  const n = next++;
  return { id: 't-' + n, debitAccountId: 'bank', creditAccountId: 'alice-' + (n % 8), amount: 1n, currency: 'USD' };
});
const print = (value) => process.stdout.write(JSON.stringify(value) + '\\n');
`;

async function postedCount(ids: readonly string[]): Promise<number> {
  const ledger = await Ledger.open({ dir });
  try {
    let posted = 0;
    for (let start = 0; start < ids.length; start += limits.batchSizeMax) {
      const found = await ledger.lookupTransfers(ids.slice(start, start + limits.batchSizeMax));
      posted += found.filter((transfer) => transfer?.state === 'posted').length;
    }
    expect((await ledger.verify()).ok).toBe(true);
    return posted;
  } finally {
    await ledger.close();
  }
}

const shutdownSnippet = fileURLToPath(
  new URL('../../../docs/snippets/dist/shutdown.js', import.meta.url),
);

describe('a Ledger embedded in a process', () => {
  it('runs the documented shutdown snippet: two SIGTERMs mid-work, exit 0, every payout kept', async () => {
    const child = spawn(process.execPath, [shutdownSnippet], {
      env: { ...process.env, SHARDLEDGER_DIR: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    let stderr = '';
    const saw = (stream: NodeJS.ReadableStream, text: string): Promise<void> =>
      new Promise((resolve) => {
        let seen = '';
        stream.on('data', (chunk: Buffer) => {
          seen += chunk.toString('utf8');
          if (stream === child.stderr) stderr = seen;
          if (seen.includes(text)) resolve();
        });
      });
    const closing = saw(child.stderr, 'SIGTERM: closing the ledger');
    await saw(child.stdout, 'running');
    await new Promise((resolve) => setTimeout(resolve, 200));
    child.kill('SIGTERM');
    await closing;
    child.kill('SIGTERM');
    const code = await new Promise((resolve) => child.once('close', resolve));
    clearTimeout(killer);
    expect(code, stderr).toBe(0);
    const ledger = await Ledger.open({ dir });
    try {
      const [treasury, payouts] = await ledger.lookupAccounts(['treasury', 'payouts']);
      expect(payouts?.creditsPosted).toBeGreaterThan(0n);
      expect(treasury?.debitsPosted).toBe(payouts?.creditsPosted);
      expect((await ledger.verify()).ok).toBe(true);
    } finally {
      await ledger.close();
    }
  });

  it('lets a process that never calls close() exit when its work is done, with strict writes kept', async () => {
    const child = runChild(
      `${setup}
      const results = [];
      for (let round = 0; round < 5; round += 1) results.push(...(await ledger.createTransfers(batch())));
      await ledger.lookupAccounts(['alice-0']);
      print({ acknowledged: results.filter((r) => r.status === 'ok').map((r) => r.id), at: Date.now() });
      // No close(): nothing of the ledger may keep this process alive.`,
      20_000,
    );
    const code = await child.exited;
    const exitedAt = Date.now();
    expect(code).toBe(0);
    const [done] = child.lines as { acknowledged: string[]; at: number }[];
    expect(done?.acknowledged).toHaveLength(80);
    // It exits at once, not after some timer: well under the child's 20 s limit.
    expect(exitedAt - (done?.at ?? 0)).toBeLessThan(2_000);
    expect(await postedCount(done?.acknowledged ?? [])).toBe(80);
  });

  it('keeps the process alive through an awaited close(), which resolves, then lets it exit', async () => {
    const child = runChild(
      `import { ReadModel } from ${JSON.stringify(compiled)};
      ${setup}
      const model = await ReadModel.open({ ledger });
      await ledger.createTransfers(batch());
      await model.close();
      await ledger.close();
      print({ closed: true });`,
      20_000,
    );
    // A top-level await left pending when the event loop empties exits with code 13.
    expect(await child.exited).toBe(0);
    expect(child.lines).toEqual([{ closed: true }]);
  });

  it('lets a process with a following read model exit without closing either', async () => {
    const child = runChild(
      `import { ReadModel } from ${JSON.stringify(compiled)};
      ${setup}
      const model = await ReadModel.open({ ledger });
      await ledger.createTransfers(batch());
      await model.catchUp();
      print({ projected: model.lookupAccounts(['alice-1'])[0]?.balance.toString() });`,
      20_000,
    );
    expect(await child.exited).toBe(0);
    expect(child.lines).toEqual([{ projected: '2' }]);
  });

  it('resolves every close() of a SIGTERM handler, sent twice mid-calls, only once the dir is free', async () => {
    const child = runChild(
      `${setup}
      async function shutdown(signal) {
        print({ signal });
        await ledger.close();
        // The test's own check: once close() resolved, for each caller, the dir is free.
        check = check.then(async () => {
          const again = await Ledger.open({ dir }).then((opened) => opened.close()).then(() => true, (error) => error.code);
          print({ closed: signal, reopened: again });
        });
      }
      let check = Promise.resolve();
      process.on('SIGTERM', shutdown);
      const acknowledged = [];
      const writer = async () => {
        for (;;) {
          try {
            for (const result of await ledger.createTransfers(batch())) if (result.status === 'ok') acknowledged.push(result.id);
          } catch (error) {
            if (isLedgerError(error, 'LEDGER_CLOSED')) return;
            throw error;
          }
        }
      };
      const writers = [writer(), writer(), writer(), writer()];
      print({ writing: true });
      await Promise.all(writers);
      print({ acknowledged });`,
      30_000,
    );
    await child.waitForLine((line) => (line as { writing?: boolean }).writing === true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    child.process.kill('SIGTERM');
    await child.waitForLine((line) => (line as { signal?: string }).signal === 'SIGTERM');
    child.process.kill('SIGTERM');
    expect(await child.exited).toBe(0);
    const closed = child.lines.filter((line) => (line as { closed?: string }).closed !== undefined);
    expect(closed).toEqual([
      { closed: 'SIGTERM', reopened: true },
      { closed: 'SIGTERM', reopened: true },
    ]);
    const last = child.lines.find((line) => (line as { acknowledged?: unknown }).acknowledged);
    const acknowledged = (last as { acknowledged: string[] }).acknowledged;
    expect(acknowledged.length).toBeGreaterThan(0);
    expect(await postedCount(acknowledged)).toBe(acknowledged.length);
  });
});
