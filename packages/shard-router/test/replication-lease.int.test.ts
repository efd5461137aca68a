// Goal: one process at a time serves a replicated ledger, and a standby takes over from a dead or
// paused owner with nothing acknowledged lost: a second open is refused with LEASE_HELD while the
// owner lives, a standby waits and takes over once the owner dies (SIGKILL under load), is paused
// (SIGSTOP) or closes, and a resumed owner is fenced; a dir's own fence does not keep it from
// publishing what it committed after it. Method: a real 3-node nats-server cluster on
// loopback and owner processes of their own (fixtures/replicated-load.mjs, fence-writer.mjs).
import { spawn, type ChildProcess } from 'node:child_process';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '@shardledger/ledger-core/testing';
import { Ledger, replicationStatus } from '../src/index.js';
import { errorCodeOf } from './ledger-fixtures.js';
import { startNatsCluster, type NatsCluster } from './nats-cluster.js';

const loadFixture = fileURLToPath(new URL('./fixtures/replicated-load.mjs', import.meta.url));
const ownerFixture = fileURLToPath(new URL('./fixtures/fence-writer.mjs', import.meta.url));
const leaseTtlMs = 2_000;
/** What a takeover may take past the lease's time: the standby's last watch of the key, the
 * restore of what it lacks, saga recovery, on a loaded machine. */
const takeoverSlackMs = 12_000;

let cluster: NatsCluster;
const cleanups: (() => Promise<void>)[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  cluster = await startNatsCluster();
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const cleanup of cleanups) await cleanup();
  await cluster.stop();
});

async function newDir(): Promise<string> {
  const { dir, cleanup } = await tempDir('replication-lease');
  cleanups.push(cleanup);
  return dir;
}

function open(dir: string, name: string, standby = false): Promise<Ledger> {
  return Ledger.open({
    dir,
    replication: { servers: [...cluster.servers], name, leaseTtlMs, standby },
  });
}

/** Starts a child and hands out its stdout lines one at a time. */
function startChild(script: string, args: readonly string[]) {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  const lines: string[] = [];
  let waiting: ((line: string) => void) | null = null;
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    if (waiting === null) lines.push(line);
    else {
      const deliver = waiting;
      waiting = null;
      deliver(line);
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const nextLine = (): Promise<string> => {
    const queued = lines.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      waiting = resolve;
      void exited.then(() => reject(new Error(`the child exited: ${stderr}`)));
    });
  };
  return { child, lines, nextLine, exited, stderr: () => stderr };
}

/** Whether `promise` is still pending after `ms`. */
async function pendingAfter(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const marker = Symbol('pending');
  const timer = new Promise((resolve) => setTimeout(() => resolve(marker), ms));
  return (await Promise.race([promise.then(() => 'settled'), timer])) === marker;
}

async function lastSeqs(name: string): Promise<number[]> {
  const status = await replicationStatus({ servers: [...cluster.servers], name });
  return status.streams.map((stream) => stream.lastSeq);
}

describe('the lease of a replicated ledger', () => {
  it('refuses a second open while the owner lives, writing nothing, and hands over at once on close', async () => {
    const name = 'lease-held';
    const owner = await open(await newDir(), name);
    await owner.createAccounts([{ id: 'a', currency: 'USD' }]);
    const before = await lastSeqs(name);
    expect(await errorCodeOf(open(await newDir(), name))).toBe('LEASE_HELD');
    expect(await lastSeqs(name)).toEqual(before);

    const standby = open(await newDir(), name, true);
    expect(await pendingAfter(standby, leaseTtlMs + 1_000)).toBe(true);
    const closedAt = performance.now();
    await owner.close();
    const next = await standby;
    const handoverMs = performance.now() - closedAt;
    expect(handoverMs).toBeLessThan(leaseTtlMs);
    expect((await next.lookupAccounts(['a']))[0]?.id).toBe('a');
    await next.close();
  });

  it('keeps a lease whose renewal landed unanswered, and loses one another process wrote', async () => {
    const name = 'lease-renewal';
    const owner = await open(await newDir(), name);
    await owner.createAccounts([
      { id: 'src', currency: 'EUR' },
      { id: 'dst', currency: 'EUR' },
    ]);
    // The holder's own value written again, as a renewal whose answer was lost would leave it:
    // the next renewals ask with the revision before it, and must find the key still theirs.
    await writeLeaseKey(name);
    await new Promise((resolve) => setTimeout(resolve, leaseTtlMs));
    expect((await owner.createTransfers(transfer('still-mine'))).map((r) => r.status)).toEqual([
      'ok',
    ]);
    // Another process's value: the holder finds it at its next renewal and serves nothing more.
    await writeLeaseKey(name, JSON.stringify({ holder: 'someone-else' }));
    await new Promise((resolve) => setTimeout(resolve, leaseTtlMs));
    expect(await errorCodeOf(owner.createTransfers(transfer('not-mine')))).toBe('WRITER_FENCED');
    await owner.close();
  });

  it('publishes what a dir committed past its own last fence, and serves', async () => {
    const name = 'own-fence';
    const dir = await newDir();
    const seeding = await open(dir, name);
    await seeding.createAccounts([
      { id: 'src', currency: 'EUR' },
      { id: 'dst', currency: 'EUR' },
    ]);
    await seeding.close();
    // Opened and closed with nothing written: the stream now ends with this dir's own fence.
    await (await open(dir, name)).close();
    // Then the dir commits without replication, as a ledger that had replication turned off.
    const offline = await Ledger.open({ dir, shards: 1 });
    expect((await offline.createTransfers(transfer('offline'))).map((r) => r.status)).toEqual([
      'ok',
    ]);
    await offline.close();
    // Its record follows its own fence: published, then served, and a new dir has it.
    const reopened = await open(dir, name);
    expect((await reopened.createTransfers(transfer('after'))).map((r) => r.status)).toEqual([
      'ok',
    ]);
    await reopened.close();
    const copy = await open(await newDir(), name);
    expect((await copy.lookupTransfers(['offline', 'after'])).map(Boolean)).toEqual([true, true]);
    expect((await copy.lookupAccounts(['dst']))[0]?.balance).toBe(2n);
    await copy.close();
  });

  it('lets a standby take over within the lease time after the owner is SIGKILLed under load, with nothing acknowledged lost', async () => {
    const name = 'lease-killed';
    const owner = startChild(loadFixture, [
      await newDir(),
      name,
      cluster.servers.join(','),
      String(leaseTtlMs),
    ]);
    expect(await owner.nextLine()).toBe('ready');
    const standby = open(await newDir(), name, true);
    standby.catch(() => undefined);
    // The owner renews its lease: the standby waits past the lease's time.
    expect(await pendingAfter(standby, leaseTtlMs + 1_000)).toBe(true);
    owner.child.kill('SIGKILL');
    const killedAt = performance.now();
    await owner.exited;
    const ledger = await standby;
    const takeoverMs = performance.now() - killedAt;
    // Only whole lines count: the last one may have been torn by the kill.
    const acks = owner.lines.filter((line) => line.startsWith('ack ')).map((line) => line.slice(4));
    expect(owner.stderr()).toBe('');
    expect(acks.length).toBeGreaterThan(50);
    for (let at = 0; at < acks.length; at += 8_190) {
      const found = await ledger.lookupTransfers(acks.slice(at, at + 8_190));
      expect(found.filter((transfer) => transfer === undefined)).toEqual([]);
    }
    expect((await ledger.verify()).ok).toBe(true);
    // Sagas the owner had in flight were finished by the standby's open, as after a crash.
    const info = await ledger.info();
    expect(info.shardInfo.map((shard) => shard.reservationsOpen)).toEqual([0, 0]);
    const accounts = await ledger.lookupAccounts(
      Array.from({ length: 8 }, (_, index) => `acct-${index}`),
    );
    expect(accounts.reduce((sum, account) => sum + (account?.balance ?? 0n), 0n)).toBe(0n);
    const [after] = await ledger.createTransfers([
      {
        id: 'after-takeover',
        debitAccountId: 'acct-0',
        creditAccountId: 'acct-1',
        amount: 1n,
        currency: 'USD',
      },
    ]);
    expect(after?.status).toBe('ok');
    await ledger.close();
    const { sagasCommitted, sagasReleased } = info.recovery;
    console.log(
      `standby took over ${takeoverMs.toFixed(0)} ms after the owner was killed ` +
        `(leaseTtlMs ${leaseTtlMs}; ${acks.length} acknowledged transfers, all there; ` +
        `sagas in flight finished: ${sagasCommitted} committed, ${sagasReleased} released)`,
    );
    expect(takeoverMs).toBeLessThan(leaseTtlMs + takeoverSlackMs);
  });

  it('fences an owner that was paused past its lease: a standby takes over, the owner then writes nothing', async () => {
    const name = 'lease-paused';
    const ownerDir = await newDir();
    const owner = startChild(ownerFixture, [
      ownerDir,
      name,
      cluster.servers.join(','),
      String(leaseTtlMs),
    ]);
    expect(await owner.nextLine()).toBe('opened');
    owner.child.stdin?.write('write before 20\n');
    const acked = await owner.nextLine();
    expect(acked.split(' ')).toHaveLength(21);

    owner.child.kill('SIGSTOP');
    const ledger = await open(await newDir(), name, true);
    expect((await ledger.createTransfers(transfer('standby-0'))).map((r) => r.status)).toEqual([
      'ok',
    ]);
    // The owner resumes with a write already waiting for it: refused, and nothing of it lands.
    owner.child.stdin?.write('write deposed 5\n');
    owner.child.kill('SIGCONT');
    expect(await owner.nextLine()).toBe('error WRITER_FENCED');
    owner.child.stdin?.write('close\n');
    await owner.exited;

    const ids = acked.split(' ').slice(1);
    expect((await ledger.lookupTransfers(ids)).every((found) => found !== undefined)).toBe(true);
    const deposed = Array.from({ length: 5 }, (_, index) => `deposed-${index}`);
    expect(await ledger.lookupTransfers(deposed)).toEqual(deposed.map(() => undefined));
    expect((await ledger.createTransfers(transfer('standby-1'))).map((r) => r.status)).toEqual([
      'ok',
    ]);
    const [dst] = await ledger.lookupAccounts(['dst']);
    expect(dst?.balance).toBe(22n);
    expect((await ledger.verify()).ok).toBe(true);
    await ledger.close();
  });
});

/** Writes `value` (or the value already there) to the ledger's lease key behind its holder. */
async function writeLeaseKey(name: string, value?: string): Promise<void> {
  const connection = await connect({ servers: [...cluster.servers] });
  try {
    const bucket = await new Kvm(connection).open(`${name}-ledger`);
    const entry = await bucket.get('lease');
    await bucket.put('lease', value ?? (entry?.string() as string));
  } finally {
    await connection.close();
  }
}

function transfer(id: string) {
  return [{ id, debitAccountId: 'src', creditAccountId: 'dst', amount: 1n, currency: 'EUR' }];
}
