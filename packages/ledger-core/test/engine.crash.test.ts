// Goal: a SIGKILL at any moment loses no acknowledged transfer and half-applies nothing. Method: a
// child process (fixtures/crash-writer.mjs, compiled package) writes continuously and is killed at
// seeded random moments; after each kill the test reopens the dir and checks log, index and balances.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { limits, ShardEngine, parseTransfer, type LedgerEvent } from '../src/index.js';
import { decodeResultBatch, encodeCommandBatch } from '../src/internals.js';
import { seededRandom } from '../src/testing.js';
import { tempDirs } from './fixtures/engine-fixtures.js';

const KILLS = 24;
/** Kills of the random-id run through the lane. */
const LANE_KILLS = 12;
/** Earlier acknowledged transfers re-checked after each kill. */
const SAMPLE = 300;
const WRITER = fileURLToPath(new URL('./fixtures/crash-writer.mjs', import.meta.url));
const COMPILED = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const ACCOUNT_IDS = [
  'bank',
  ...Array.from({ length: 8 }, (_, index) => `w${index}`),
  ...Array.from({ length: 8 }, (_, index) => `m${index}`),
];
const dirs = tempDirs('engine-crash-');
afterAll(() => dirs.cleanup());

/** [id, kind, debit, credit, amount, pendingId, status], as the writer prints them. */
type Ack = [
  string,
  'transfer' | 'pending' | 'post' | 'void',
  string,
  string,
  string,
  string | null,
  string,
];

interface RunOutcome {
  readonly acks: Ack[];
  readonly ready: boolean;
  readonly signal: NodeJS.Signals | null;
  readonly code: number | null;
  readonly stderr: string;
}

/** Runs the writer once and SIGKILLs it `delayMs` after it is ready (or after spawn when `early`). */
function runWriter(options: {
  dir: string;
  run: number;
  seed: number;
  delayMs: number;
  early: boolean;
  lane: boolean;
}): Promise<RunOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        WRITER,
        options.dir,
        String(options.run),
        String(options.seed),
        ...(options.lane ? ['lane'] : []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const acks: Ack[] = [];
    let ready = false;
    let buffered = '';
    let stderr = '';
    const kill = (): void => {
      setTimeout(() => child.kill('SIGKILL'), options.delayMs);
    };
    if (options.early) kill();
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line === 'ready') {
          ready = true;
          if (!options.early) kill();
        } else if (line.startsWith('ack ')) acks.push(...(JSON.parse(line.slice(4)) as Ack[]));
        newline = buffered.indexOf('\n');
      }
      // Whatever is left has no newline yet: a line still being written, or torn by the kill.
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    // 'close' comes after both pipes are drained, so every acknowledged line has been read.
    child.on('close', (code, signal) => resolve({ acks, ready, signal, code, stderr }));
  });
}

interface Expected {
  readonly kind: 'transfer' | 'post' | 'void';
  readonly debit: string;
  readonly credit: string;
  readonly amount: bigint;
  readonly pending: boolean;
  readonly pendingId: string | null;
}

/** What the writer acknowledged (id -> fields), and every transfer id found in the log. */
const acknowledged = new Map<string, Expected>();
const seen = new Set<string>();

/** Each id is in the index with the fields the writer was acknowledged for, and in the log. */
async function expectAcknowledged(
  engine: ShardEngine,
  ids: string[],
  context: string,
): Promise<void> {
  const records = await engine.lookupTransfers(ids);
  for (const [index, id] of ids.entries()) {
    const record = records[index];
    expect(record, `${context}: acknowledged ${id} is lost`).toBeDefined();
    expect(
      {
        kind: record?.kind,
        debit: record?.debitAccountId,
        credit: record?.creditAccountId,
        amount: record?.amount,
        pending: record?.pending,
        pendingId: record?.pendingId,
      },
      `${context}: ${id}`,
    ).toEqual(acknowledged.get(id));
    expect(seen.has(id), `${context}: acknowledged ${id} is not in the log`).toBe(true);
  }
}

function idsOf(event: LedgerEvent): string[] {
  switch (event.type) {
    case 'TransferCreated':
      return [event.transfer.id];
    case 'PendingTransferPosted':
    case 'PendingTransferVoided':
      return [event.id];
    default:
      return [];
  }
}

/** Submits again, through the lane, transfers acknowledged earlier with the same fields: each
 * must be 'exists'. A lost index entry would make one 'ok', a second posting of its money. */
async function expectRetriesExist(engine: ShardEngine, ids: string[], context: string) {
  const transfers = ids.flatMap((id) => {
    const expected = acknowledged.get(id);
    if (expected === undefined || expected.kind !== 'transfer' || expected.pending) return [];
    const parsed = parseTransfer({
      id,
      debitAccountId: expected.debit,
      creditAccountId: expected.credit,
      amount: expected.amount,
      currency: 'USD',
    });
    return parsed.ok ? [{ type: 'CreateTransfer' as const, transfer: parsed.value }] : [];
  });
  // In calls of at most batchSizeMax, as a client must send them.
  for (let start = 0; start < transfers.length; start += limits.batchSizeMax) {
    const chunk = transfers.slice(start, start + limits.batchSizeMax);
    const results = decodeResultBatch(await engine.submitEncoded(encodeCommandBatch(chunk)));
    expect(
      results.map((result) => result.status),
      `${context}: a retry of an acknowledged transfer`,
    ).toEqual(chunk.map(() => 'exists'));
  }
}

/** `kills` writer runs over one dir, each SIGKILLed at a seeded moment, each followed by the
 * checks. `lane`: the writer sends random ids through submitEncoded (sorted runs that merge). */
async function crashRuns(kills: number, lane: boolean): Promise<void> {
  acknowledged.clear();
  seen.clear();
  expect(existsSync(COMPILED), 'build first: npx tsc -b packages/ledger-core').toBe(true);
  const seed = Number(process.env['CRASH_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
  console.log(`engine.crash: seed ${seed} (rerun with CRASH_SEED=${seed})`);
  const random = seededRandom(seed);
  const dir = await dirs.make();
  const ackedIds: string[] = [];
  const rejected = new Set<string>();
  let scannedThrough = 0;
  const runs = kills;
  kills = 0;
  let runsWithAcks = 0;
  let fromSnapshot = 0;
  const started = performance.now();

  for (let run = 0; run < runs; run += 1) {
    const early = run % 4 === 3;
    // Most kills land while writing; every fourth lands during start-up or recovery.
    const delayMs = early ? Math.floor(400 + random() * 600) : Math.floor(50 + random() * 350);
    const outcome = await runWriter({ dir, run, seed, delayMs, early, lane });
    const context = `seed ${seed}, run ${run}, delay ${delayMs} ms${early ? ' after spawn' : ' after ready'}`;
    expect(
      outcome.signal,
      `${context}: writer died on its own (code ${outcome.code}): ${outcome.stderr}`,
    ).toBe('SIGKILL');
    kills += 1;
    if (outcome.acks.length > 0) runsWithAcks += 1;
    for (const [id, kind, debit, credit, amount, pendingId, status] of outcome.acks) {
      if (status === 'ok') {
        ackedIds.push(id);
        acknowledged.set(id, {
          kind: kind === 'pending' ? 'transfer' : kind,
          debit,
          credit,
          amount: BigInt(amount),
          pending: kind === 'pending',
          pendingId,
        });
      } else {
        expect(status, `${context}: ${id}`).not.toBe('exists');
        rejected.add(id);
      }
    }

    const engine = await ShardEngine.open({ dir, snapshotIntervalMs: 0 });
    if (engine.info().recoveredFromSnapshot !== null) fromSnapshot += 1;
    // Snapshots keep the id filters: every open from one makes them from it.
    expect(engine.info().idFiltersFromSnapshot, context).toBe(
      engine.info().recoveredFromSnapshot !== null,
    );
    try {
      // The log: every transfer id appears in exactly one event, and the id index has it.
      for (;;) {
        const events = await engine.readEvents(scannedThrough, 5_000);
        if (events.length === 0) break;
        const ids = events.flatMap(({ event }) => idsOf(event));
        for (const id of ids) {
          expect(seen.has(id), `${context}: ${id} logged twice`).toBe(false);
          seen.add(id);
        }
        const indexed = await engine.lookupTransfers(ids);
        expect(
          indexed.every((record) => record !== undefined),
          `${context}: a logged transfer is missing from the index`,
        ).toBe(true);
        scannedThrough = (events[events.length - 1] as { sequence: number }).sequence;
      }
      expect(scannedThrough).toBe(engine.info().lastSequence);

      // Every transfer acknowledged by this run, and a sample of earlier ones (all of them are
      // checked once more at the end), is there with its fields; every rejected one is absent.
      const earlier = ackedIds.length - outcome.acks.filter((ack) => ack[6] === 'ok').length;
      const sample = Array.from(
        { length: Math.min(SAMPLE, earlier) },
        () => ackedIds[Math.floor(random() * earlier)] as string,
      );
      await expectAcknowledged(engine, [...sample, ...ackedIds.slice(earlier)], context);
      if (lane) await expectRetriesExist(engine, [...sample, ...ackedIds.slice(earlier)], context);
      const absent = await engine.lookupTransfers([...rejected]);
      expect(
        absent.every((record) => record === undefined),
        `${context}: a rejected transfer was applied`,
      ).toBe(true);

      // Replay equals the recovered state, and money is conserved.
      const report = await engine.verify();
      expect(report.violations, context).toEqual([]);
      expect(report.ok).toBe(true);
      const views = await engine.lookupAccounts(ACCOUNT_IDS);
      if (views.some((view) => view !== undefined)) {
        expect(
          views.every((view) => view !== undefined),
          `${context}: accounts are created in one batch`,
        ).toBe(true);
      }
      const sum = (pick: (view: NonNullable<(typeof views)[number]>) => bigint): bigint =>
        views.reduce((total, view) => total + (view === undefined ? 0n : pick(view)), 0n);
      expect(
        sum((view) => view.debitsPosted),
        context,
      ).toBe(sum((view) => view.creditsPosted));
      expect(
        sum((view) => view.debitsPending),
        context,
      ).toBe(sum((view) => view.creditsPending));
      for (const view of views) {
        if (view?.debitsMustNotExceedCredits)
          expect(
            view.debitsPosted + view.debitsPending <= view.creditsPosted,
            `${context}: ${view.id}`,
          ).toBe(true);
      }
    } finally {
      await engine.close();
    }
  }

  const engine = await ShardEngine.open({ dir, snapshotIntervalMs: 0 });
  try {
    await expectAcknowledged(engine, ackedIds, `seed ${seed}, final check`);
    expect(engine.info().lastSequence).toBe(scannedThrough);
  } finally {
    await engine.close();
  }
  const elapsedS = (performance.now() - started) / 1_000;
  console.log(
    `engine.crash: seed ${seed}, ${kills} kills, ${acknowledged.size} acknowledged transfers, ` +
      `${scannedThrough} events, ${runsWithAcks} runs with acks, ${fromSnapshot} recoveries from a snapshot, ${elapsedS.toFixed(1)} s`,
  );
  expect(kills).toBeGreaterThanOrEqual(runs);
  // The kills must land while writing, not only during start-up.
  expect(runsWithAcks).toBeGreaterThanOrEqual(runs / 2);
  expect(acknowledged.size).toBeGreaterThan(1_000);
}

describe('ShardEngine under SIGKILL', () => {
  it(
    `keeps every acknowledged transfer exactly once and half-applies nothing across ${KILLS} random kills`,
    { timeout: 120_000 },
    () => crashRuns(KILLS, false),
  );

  it(
    `keeps random-id transfers of the lane, in sorted runs that later commits merge, across ${LANE_KILLS} kills`,
    { timeout: 120_000 },
    () => crashRuns(LANE_KILLS, true),
  );
});
