// Probe (not a test, not the main bench): two-phase transfers, the shape of a pay-in. One shard,
// 10,000 accounts, strict durability; B rounds (default 30) of one call of 8,190 holds (pending
// transfers, UUIDv4 ids) then one call posting them all. Prints holds/s and posts/s (each call
// timed alone) and verify()'s outcome. Run after 'npx tsc -b':
//   B=30 node packages/bench/bin/holds-probe.mjs
import { Ledger } from '@shardledger/shard-router';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
const dir = mkdtempSync('/tmp/hp-');
const l = await Ledger.open({ dir, shards: 1, durability: 'strict' });
const N = 10000;
const ids = Array.from({ length: N }, (_, i) => 'acct-' + String(i).padStart(6, '0'));
for (let i = 0; i < N; i += 8190)
  await l.createAccounts(ids.slice(i, i + 8190).map((id) => ({ id, currency: 'USD' })));
const flat = (s) => Buffer.from(s, 'latin1').toString('latin1');
const B = +(process.env.B || 30);
let holdMs = 0,
  postMs = 0,
  posted = 0;
for (let b = 0; b < B; b++) {
  const holds = Array.from({ length: 8190 }, (_, i) => ({
    id: flat(randomUUID()),
    debitAccountId: ids[(b * 7 + i * 13) % N],
    creditAccountId: ids[(b * 11 + i * 17 + 1) % N],
    amount: 5n,
    currency: 'USD',
    pending: true,
  }));
  let t = performance.now();
  const hr = await l.createTransfers(holds);
  holdMs += performance.now() - t;
  const posts = holds.map((h) => ({ id: flat(randomUUID()), pendingId: h.id }));
  t = performance.now();
  const pr = await l.postPendingTransfers(posts);
  postMs += performance.now() - t;
  posted += pr.filter((r) => r.status === 'ok').length;
  if (hr.some((r) => r.status !== 'ok'))
    throw new Error('hold ' + hr.find((r) => r.status !== 'ok').status);
}
console.log(
  `holds ${(((B * 8190) / holdMs) * 1000).toFixed(0)}/s posts ${((posted / postMs) * 1000).toFixed(0)}/s posted=${posted}`,
);
const v = await l.verify();
console.log('verify', v.ok);
await l.close();
rmSync(dir, { recursive: true, force: true });
