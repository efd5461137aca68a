// Probe (not a test): a second writer opening a shard while the first keeps group commits in
// flight. Each round starts pipelined-writer.mjs on a fresh dir, waits for a few acknowledged
// batches, and opens the same dir as a second ShardEngine in this process (the dir lock is the
// router's, so two engines can meet here, as two containers on one volume can).
// - Refused (DIR_LOCKED, the expected outcome): the first writer is killed, the dir reopened, and
//   every transfer it acknowledged must be there.
// - Opened: the first writer must stop with WRITER_FENCED, and every transfer it acknowledged must
//   be in the second.
// Run after 'npx tsc -b': ROUNDS=24 node packages/bench/bin/fence-race-probe.mjs
// Prints one line per round that went wrong, and a summary.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ShardEngine } from '@shardledger/ledger-core';

const WRITER = fileURLToPath(new URL('./pipelined-writer.mjs', import.meta.url));
const rounds = +(process.env.ROUNDS || 24);
const tally = { refused: 0, fenced: 0, openFailed: 0, notFenced: 0, lost: 0 };

for (let round = 0; round < rounds; round++) {
  const dir = mkdtempSync(join(tmpdir(), 'fence-race-'));
  const child = spawn(process.execPath, [WRITER, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const acked = [];
  let stopped = null;
  let acks = 0;
  let enough;
  const gotEnough = new Promise((resolve) => (enough = resolve));
  let buffered = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    buffered += chunk;
    for (let at = buffered.indexOf('\n'); at >= 0; at = buffered.indexOf('\n')) {
      const [word, first, count] = buffered.slice(0, at).split(' ');
      buffered = buffered.slice(at + 1);
      if (word === 'ack') {
        const from = Number(first.slice(1));
        for (let k = 0; k < Number(count); k++) acked.push(`t${String(from + k).padStart(9, '0')}`);
        if (++acks >= 3 + (round % 5)) enough();
      } else if (word === 'stopped' || word === 'hung') stopped = `${word} ${first}`;
    }
  });
  const exited = new Promise((resolve) => child.once('close', resolve));
  await gotEnough;
  let newer;
  try {
    newer = await ShardEngine.open({ dir, durability: 'strict', snapshotIntervalMs: 0 });
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    if (error.code !== 'DIR_LOCKED') {
      tally.openFailed++;
      console.log(`round ${round}: the newer open failed: ${error.code ?? error}`);
      rmSync(dir, { recursive: true, force: true });
      continue;
    }
    const reopened = await ShardEngine.open({ dir, durability: 'strict', snapshotIntervalMs: 0 });
    const found = await reopened.lookupTransfers(acked);
    const missing = acked.filter((_, index) => found[index] === undefined).length;
    await reopened.close();
    rmSync(dir, { recursive: true, force: true });
    if (missing > 0) {
      tally.lost++;
      console.log(`round ${round}: ${missing} of ${acked.length} acknowledged transfers missing`);
    } else tally.refused++;
    continue;
  }
  await exited;
  const found = await newer.lookupTransfers(acked);
  const missing = acked.filter((_, index) => found[index] === undefined).length;
  await newer.close();
  rmSync(dir, { recursive: true, force: true });
  if (stopped !== 'stopped WRITER_FENCED') {
    tally.notFenced++;
    console.log(`round ${round}: the older writer ended with '${stopped}'`);
  }
  if (missing > 0) {
    tally.lost++;
    console.log(`round ${round}: ${missing} of ${acked.length} acknowledged transfers missing`);
  }
  if (stopped === 'stopped WRITER_FENCED' && missing === 0) tally.fenced++;
}
console.log(`rounds=${rounds} ${JSON.stringify(tally)}`);
