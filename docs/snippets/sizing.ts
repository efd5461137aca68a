// Disk and memory sizing (docs/operations.md). Creates SIZING_ACCOUNTS accounts and
// SIZING_TRANSFERS transfers between random pairs of them in SHARDLEDGER_DIR and reports:
// - bytes on disk per account and per transfer: growth of the shard's events.mdb (the event log
//   plus the id, saga and history indexes), for accounts without and with the `history` flag;
// - bytes of heap per account: one shard's in-memory state, measured in this process with a
//   ShardEngine (the same state a shard worker holds), after a full GC;
// - bytes of heap per transfer: should be about zero (the id index lives on disk);
// - snapshot bytes per account (a snapshot after the accounts only), and per transfer (what a
//   snapshot after the transfers adds: the filter of the shard's transfer ids that it keeps).
// Run: npx tsc -b docs/snippets && node --expose-gc docs/snippets/dist/sizing.js
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { ShardEngine, parseAccount, parseTransfer, type Command } from '@shardledger/ledger-core';
import { Ledger } from '@shardledger/shard-router';

const dir = process.env.SHARDLEDGER_DIR ?? './shardledger-data';
const accountCount = Number(process.env.SIZING_ACCOUNTS ?? 100_000);
const transferCount = Number(process.env.SIZING_TRANSFERS ?? 500_000);
const batchSize = 8_190;

// A full GC before each heap reading (works without --expose-gc too).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Deterministic pseudo-random account pairs (mulberry32), so runs are comparable. */
function pairs(seed: number): () => [number, number] {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) % accountCount;
  };
  return () => {
    const debit = next();
    let credit = next();
    if (credit === debit) credit = (credit + 1) % accountCount;
    return [debit, credit];
  };
}

const accountId = (index: number): string => `acct-${index}`;
const transferId = (index: number): string => `tr-${String(index).padStart(10, '0')}`;

async function logBytes(ledger: Ledger): Promise<number> {
  const info = await ledger.info();
  return info.shardInfo.reduce((sum, shard) => sum + shard.logSizeBytes, 0);
}

/** Disk growth per account and per transfer through the public Ledger (one shard). */
async function diskSizing(history: boolean): Promise<{ perAccount: number; perTransfer: number }> {
  const ledgerDir = join(dir, history ? 'disk-history' : 'disk-plain');
  await mkdir(ledgerDir, { recursive: true });
  const ledger = await Ledger.open({ dir: ledgerDir, shards: 1, durability: 'relaxed', snapshotIntervalMs: 0 });
  const empty = await logBytes(ledger);
  for (let first = 0; first < accountCount; first += batchSize) {
    const batch = [];
    for (let index = first; index < Math.min(first + batchSize, accountCount); index += 1) {
      batch.push({ id: accountId(index), currency: 'USD', history });
    }
    await ledger.createAccounts(batch);
  }
  const withAccounts = await logBytes(ledger);
  const next = pairs(42);
  const inFlight: Promise<unknown>[] = [];
  for (let first = 0; first < transferCount; first += batchSize) {
    const batch = [];
    for (let index = first; index < Math.min(first + batchSize, transferCount); index += 1) {
      const [debit, credit] = next();
      batch.push({ id: transferId(index), debitAccountId: accountId(debit), creditAccountId: accountId(credit), amount: 1n + BigInt(index % 10_000), currency: 'USD' });
    }
    inFlight.push(ledger.createTransfers(batch));
    if (inFlight.length >= 4) await inFlight.shift();
  }
  await Promise.all(inFlight);
  const withTransfers = await logBytes(ledger);
  await ledger.close();
  return { perAccount: (withAccounts - empty) / accountCount, perTransfer: (withTransfers - withAccounts) / transferCount };
}

/** Heap per account and per transfer of one shard's state, and its snapshot size. */
async function memorySizing(): Promise<{
  perAccount: number;
  perTransfer: number;
  snapshotPerAccount: number;
  snapshotPerTransfer: number;
}> {
  const engine = await ShardEngine.open({ dir: join(dir, 'memory'), durability: 'relaxed', snapshotIntervalMs: 0 });
  const commandsOf = (from: number, to: number, make: (index: number) => Command): Command[] => {
    const commands: Command[] = [];
    for (let index = from; index < to; index += 1) commands.push(make(index));
    return commands;
  };
  const before = heapUsed();
  for (let first = 0; first < accountCount; first += batchSize) {
    await engine.submit(
      commandsOf(first, Math.min(first + batchSize, accountCount), (index) => {
        const parsed = parseAccount({ id: accountId(index), currency: 'USD' });
        if (!parsed.ok) throw new Error(parsed.code);
        return { type: 'CreateAccount', account: parsed.value };
      }),
    );
  }
  const withAccounts = heapUsed();
  const accountsSnapshot = await engine.snapshot();
  const next = pairs(42);
  for (let first = 0; first < transferCount; first += batchSize) {
    await engine.submit(
      commandsOf(first, Math.min(first + batchSize, transferCount), (index) => {
        const [debit, credit] = next();
        const input = { id: transferId(index), debitAccountId: accountId(debit), creditAccountId: accountId(credit), amount: 100n, currency: 'USD' };
        const parsed = parseTransfer(input);
        if (!parsed.ok) throw new Error(parsed.code);
        return { type: 'CreateTransfer', transfer: parsed.value };
      }),
    );
  }
  const withTransfers = heapUsed();
  const snapshot = await engine.snapshot();
  await engine.close();
  return {
    perAccount: (withAccounts - before) / accountCount,
    perTransfer: (withTransfers - withAccounts) / transferCount,
    snapshotPerAccount: accountsSnapshot.sizeBytes / accountCount,
    snapshotPerTransfer: (snapshot.sizeBytes - accountsSnapshot.sizeBytes) / transferCount,
  };
}

const started = Date.now();
const plain = await diskSizing(false);
const indexed = await diskSizing(true);
const memory = await memorySizing();
const round = (value: number): number => Math.round(value);
console.log(
  JSON.stringify(
    {
      accounts: accountCount,
      transfers: transferCount,
      diskBytesPerAccount: round(plain.perAccount),
      diskBytesPerTransfer: round(plain.perTransfer),
      diskBytesPerTransferBetweenHistoryAccounts: round(indexed.perTransfer),
      heapBytesPerAccount: round(memory.perAccount),
      heapBytesPerTransfer: Math.round(memory.perTransfer * 10) / 10,
      snapshotBytesPerAccount: round(memory.snapshotPerAccount),
      snapshotBytesPerTransfer: Math.round(memory.snapshotPerTransfer * 10) / 10,
      seconds: Math.round((Date.now() - started) / 100) / 10,
    },
    null,
    2,
  ),
);
