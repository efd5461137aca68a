// Micro-benchmarks of hot paths with tinybench: `node packages/bench/dist/micro.js [--time MS]`.
// Hashing an account id, msgpackr encode/decode of a TransferCreated event, decide + evolve of a
// CreateTransfer (through MemoryLedger, which also updates the id index), and an LMDB append of
// one pre-encoded batch (commit + flushed, the strict path).

import { parseAccount, parseTransfer, type LedgerEvent, type TransferSpec } from '@shardledger/ledger-core';
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

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { time: { type: 'string' } } });
  const timeMs = Number(values.time ?? 500);
  const bench = new Bench({ time: timeMs, warmupTime: Math.min(timeMs, 200) });

  let sink = 0;
  bench.add('fnv1a32(account id)', () => {
    sink ^= fnv1a32('acct-004711');
  });

  // Same options the ledger's log uses for events (STYLE rule 8: bigints beyond 64 bits).
  const packr = new Packr({ useBigIntExtension: true });
  const transfer: TransferSpec = mustParse(parseTransfer({ id: 't-1-0000000001', debitAccountId: 'acct-000001', creditAccountId: 'acct-000002', amount: 1000n, currency: 'USD' }));
  const event: LedgerEvent = { type: 'TransferCreated', timestamp: 1_700_000_000_000_000_000n, transfer };
  const encoded = packr.pack(event);
  bench.add('msgpackr pack(TransferCreated)', () => {
    sink ^= packr.pack(event).length;
  });
  bench.add('msgpackr unpack(TransferCreated)', () => {
    sink ^= (packr.unpack(encoded) as LedgerEvent).type.length;
  });

  const ledger = new MemoryLedger();
  for (const id of ['acct-000001', 'acct-000002']) ledger.execute({ type: 'CreateAccount', account: mustParse(parseAccount({ id, currency: 'USD' })) });
  let counter = 0;
  bench.add('decide + evolve (CreateTransfer, MemoryLedger)', () => {
    const decision = ledger.execute({ type: 'CreateTransfer', transfer: { ...transfer, id: `t-m-${counter++}` } });
    if (!decision.ok) throw new Error(decision.code);
  });

  const dir = await mkdtemp(join(tmpdir(), 'bench-micro-'));
  const db = openLmdbLog({ path: join(dir, 'micro.mdb') });
  const workload = generateWorkload({ seed: 1, accountCount: 10_000, transferCount: 8190 });
  const record = encodeRecords(workload.batches[0] as (typeof workload.batches)[number], 0);
  let key = 0;
  bench.add('lmdb append 8,190 x 64 B (commit + flushed)', async () => {
    await db.put(key++, record);
    await db.flushed;
  });

  try {
    await bench.run();
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
  console.table(bench.table());
  if (sink === 0.5) console.log(sink); // keeps `sink` alive
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
