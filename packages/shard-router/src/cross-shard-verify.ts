// Ledger.verify: every shard checks its own invariants (its replay from event 1 equals its live
// state, among others), and the router checks what no one shard can see: at quiescence, total
// debits equal total credits per currency across shards, pending totals match, no saga is left
// in flight, and every cross-shard hold is open on each of its shards or on none.

import type { EngineInfo } from '@shardledger/ledger-core';
import type { VerifyResult } from './ledger-types.js';
import type { RouterParts } from './router-parts.js';

type ShardViolation = VerifyResult['violations'][number];

/** Per currency: posted debits, posted credits, pending debits, pending credits. */
type CurrencySums = Map<string, bigint[]>;

/** Checks every invariant across all shards once the sagas in flight settled; never throws on a
 * violation. */
export async function verifyShards(parts: RouterParts): Promise<VerifyResult> {
  await parts.sagas.settle();
  const violations: ShardViolation[] = [];
  let eventsReplayed = 0;
  const reports = await Promise.all(parts.clients.map((client) => client.verify()));
  reports.forEach((report, shard) => {
    eventsReplayed += report.eventsReplayed;
    for (const violation of report.violations) violations.push({ ...violation, shard });
  });
  const infos = await Promise.all(parts.clients.map((client) => client.info()));
  infos.forEach((info, shard) => {
    if (info.reservationsOpen > 0) {
      violations.push({
        rule: 'no_open_reservations',
        detail: `${info.reservationsOpen} open`,
        shard,
      });
    }
  });
  const sums = sumTotals(infos);
  violations.push(...(await holdViolations(parts)));
  violations.push(...totalsViolations(sums));
  return { ok: violations.length === 0, violations, eventsReplayed };
}

/** The shards' running totals added up per currency. */
function sumTotals(infos: readonly EngineInfo[]): CurrencySums {
  const sums: CurrencySums = new Map();
  for (const info of infos) {
    for (const totals of info.totals) {
      const sum = sums.get(totals.currency) ?? [0n, 0n, 0n, 0n];
      sum[0] = (sum[0] as bigint) + totals.debitsPosted;
      sum[1] = (sum[1] as bigint) + totals.creditsPosted;
      sum[2] = (sum[2] as bigint) + totals.debitsPending;
      sum[3] = (sum[3] as bigint) + totals.creditsPending;
      sums.set(totals.currency, sum);
    }
  }
  return sums;
}

/** A cross-shard hold is open on each of its shards, or on none. */
async function holdViolations(parts: RouterParts): Promise<ShardViolation[]> {
  const holds = new Map<string, { participants: readonly number[]; on: number[] }>();
  const openPerShard = await Promise.all(parts.clients.map((client) => client.openReservations()));
  openPerShard.forEach((open, shard) => {
    for (const reservation of open) {
      let hold = holds.get(reservation.sagaId);
      if (hold === undefined)
        holds.set(reservation.sagaId, (hold = { participants: reservation.participants, on: [] }));
      hold.on.push(shard);
    }
  });
  const violations: ShardViolation[] = [];
  for (const [sagaId, hold] of holds) {
    if (hold.on.length !== hold.participants.length) {
      violations.push({
        rule: 'holds_open_on_every_shard',
        detail: `${sagaId}: open on shards ${hold.on.join(',')} of ${hold.participants.join(',')}`,
        shard: null,
      });
    }
  }
  return violations;
}

/** Debits equal credits, posted and pending, per currency across all shards. */
function totalsViolations(sums: CurrencySums): ShardViolation[] {
  const violations: ShardViolation[] = [];
  for (const [currency, [debits, credits, debitsPending, creditsPending]] of sums) {
    if (debits !== credits) {
      violations.push({
        rule: 'debits_equal_credits',
        detail: `${currency}: debits ${debits}, credits ${credits}`,
        shard: null,
      });
    }
    if (debitsPending !== creditsPending) {
      violations.push({
        rule: 'pending_debits_equal_pending_credits',
        detail: `${currency}: ${debitsPending} vs ${creditsPending}`,
        shard: null,
      });
    }
  }
  return violations;
}
