// Micro-benchmarks of hot paths with tinybench: `node packages/bench/dist/micro.js [--time MS]`.
// Hashing an account id, msgpackr encode/decode of a TransferCreated event, decide + evolve of a
// CreateTransfer (through MemoryLedger, which also updates the id index), and an LMDB append of
// one pre-encoded batch (commit + flushed, the strict path).

import {
  parseAccount,
  parseTransfer,
  type Command,
  type LedgerEvent,
  type TransferSpec,
} from '@shardledger/ledger-core';
import {
  applyPlainTransfer,
  decide,
  evolve,
  initialState,
  type DecideContext,
  type LedgerState,
} from '@shardledger/ledger-core/internals';
import { MemoryLedger } from '@shardledger/ledger-core/testing';
import { Packr } from 'msgpackr';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';
import { fnv1a32 } from './hash.js';
import { encodeRecords, openLmdbLog } from './peers/lmdb-limit.js';
import { generateWorkload } from './workload.js';

function mustParse<T>(parsed: { ok: true; value: T } | { ok: false; code: string }): T {
  if (!parsed.ok) throw new Error(`fixture rejected: ${parsed.code}`);
  return parsed.value;
}

/** Folded into by every bench so that no result is dead code. */
let sink = 0;

/** The transfer every single-transfer bench uses. */
function sampleTransfer(): TransferSpec {
  return mustParse(
    parseTransfer({
      id: 't-1-0000000001',
      debitAccountId: 'acct-000001',
      creditAccountId: 'acct-000002',
      amount: 1000n,
      currency: 'USD',
    }),
  );
}

function addCodecBenches(bench: Bench, transfer: TransferSpec): void {
  // Same options the ledger's log uses for events (bigints beyond 64 bits).
  const packr = new Packr({ useBigIntExtension: true });
  const event: LedgerEvent = {
    type: 'TransferCreated',
    timestamp: 1_700_000_000_000_000_000n,
    transfer,
  };
  const encoded = packr.pack(event);
  bench.add('msgpackr pack(TransferCreated)', () => {
    sink ^= packr.pack(event).length;
  });
  bench.add('msgpackr unpack(TransferCreated)', () => {
    sink ^= (packr.unpack(encoded) as LedgerEvent).type.length;
  });
}

function addMemoryLedgerBench(bench: Bench, transfer: TransferSpec): void {
  const ledger = new MemoryLedger();
  for (const id of ['acct-000001', 'acct-000002'])
    ledger.execute({
      type: 'CreateAccount',
      account: mustParse(parseAccount({ id, currency: 'USD' })),
    });
  let counter = 0;
  bench.add('decide + evolve (CreateTransfer, MemoryLedger)', () => {
    const decision = ledger.execute({
      type: 'CreateTransfer',
      transfer: { ...transfer, id: `t-m-${counter++}` },
    });
    if (!decision.ok) throw new Error(decision.code);
  });
}

/** A fresh ledger state holding the accounts, created at timestamps 1, 2, ... */
function stateWithAccounts(accountIds: readonly string[]): LedgerState {
  const state = initialState();
  let timestamp = 1n;
  for (const id of accountIds)
    evolve(state, {
      type: 'AccountCreated',
      timestamp: timestamp++,
      account: mustParse(parseAccount({ id, currency: 'USD' })),
    });
  return state;
}

/** One standard batch: 10,000 accounts, uniform random pairs, 8,190 transfers, as commands. */
function standardBatch(): {
  accountIds: readonly string[];
  commands: Command[];
  amounts: Float64Array;
} {
  const batchWorkload = generateWorkload({ seed: 2, accountCount: 10_000, transferCount: 8190 });
  const batch = batchWorkload.batches[0] as (typeof batchWorkload.batches)[number];
  const accountIds = batchWorkload.accountIds;
  const commands: Command[] = [];
  for (let index = 0; index < batch.ids.length; index += 1) {
    const spec = mustParse(
      parseTransfer({
        id: batch.ids[index] as string,
        debitAccountId: accountIds[batch.debit[index] as number] as string,
        creditAccountId: accountIds[batch.credit[index] as number] as string,
        amount: BigInt(batch.amount[index] as number),
        currency: 'USD',
      }),
    );
    commands.push({ type: 'CreateTransfer', transfer: spec });
  }
  return { accountIds, commands, amounts: Float64Array.from(batch.amount) };
}

/** The standard batch through decide + evolve and through the plain-transfer lane. One task run
 * applies a whole batch, so transfers/s = 8,190 x runs/s (printed by `printBatchRates`). */
function addBatchBenches(bench: Bench): void {
  const { accountIds, commands, amounts } = standardBatch();
  const general = stateWithAccounts(accountIds);
  // Every id is new (as with time-ordered ids, the engine's common case): no index lookup.
  const context: DecideContext & { timestamp: bigint } = {
    timestamp: 0n,
    transfers: { get: () => undefined },
    sagas: { get: () => undefined },
  };
  bench.add('decide + evolve: 8,190 transfers, 10k accounts', () => {
    for (const command of commands) {
      context.timestamp = general.lastTimestamp + 1n;
      const decision = decide(command, general, context);
      if (!decision.ok) throw new Error(decision.code);
      for (const event of decision.events) evolve(general, event);
    }
  });
  const plain = stateWithAccounts(accountIds);
  const debits = commands.map((command) =>
    command.type === 'CreateTransfer' ? command.transfer.debitAccountId : '',
  );
  const credits = commands.map((command) =>
    command.type === 'CreateTransfer' ? command.transfer.creditAccountId : '',
  );
  bench.add('applyPlainTransfer: 8,190 transfers, 10k accounts', () => {
    for (let index = 0; index < debits.length; index += 1) {
      if (
        !applyPlainTransfer(
          plain,
          debits[index] as string,
          credits[index] as string,
          'USD',
          amounts[index] as number,
          0,
        )
      )
        throw new Error('declined');
      plain.lastSequence += 1;
    }
  });
}

/** The LMDB append bench on a temp directory; resolves to its cleanup. */
async function addLmdbBench(bench: Bench): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-micro-'));
  const db = openLmdbLog({ path: join(dir, 'micro.mdb') });
  const workload = generateWorkload({ seed: 1, accountCount: 10_000, transferCount: 8190 });
  const record = encodeRecords(workload.batches[0] as (typeof workload.batches)[number], 0);
  let key = 0;
  bench.add('lmdb append 8,190 x 64 B (commit + flushed)', async () => {
    await db.put(key++, record);
    await db.flushed;
  });
  return async () => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  };
}

/** Transfers per second of the whole-batch benches. */
function printBatchRates(bench: Bench): void {
  for (const task of bench.tasks) {
    if (!task.name.includes('8,190 transfers')) continue;
    const result = task.result;
    if (result === undefined || !('latency' in result)) continue;
    const meanMs = result.latency.mean;
    console.log(
      `${task.name}: ${Math.round((8190 / meanMs) * 1000).toLocaleString('en-US')} transfers/s (${((meanMs * 1000) / 8190).toFixed(3)} µs each)`,
    );
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { time: { type: 'string' } } });
  const timeMs = Number(values.time ?? 500);
  const bench = new Bench({ time: timeMs, warmupTime: Math.min(timeMs, 200) });
  bench.add('fnv1a32(account id)', () => {
    sink ^= fnv1a32('acct-004711');
  });
  const transfer = sampleTransfer();
  addCodecBenches(bench, transfer);
  addMemoryLedgerBench(bench, transfer);
  addBatchBenches(bench);
  const cleanUp = await addLmdbBench(bench);
  try {
    await bench.run();
  } finally {
    await cleanUp();
  }
  console.table(bench.table());
  printBatchRates(bench);
  if (sink === 0.5) console.log(sink); // keeps `sink` alive
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
