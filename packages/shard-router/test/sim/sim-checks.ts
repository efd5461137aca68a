// What must hold after every seed, read straight from the engines once the run has settled and
// restarted: nothing acknowledged lost, nothing refused applied, no money created, no saga left
// open, every shard's log replays to its live state, and the same answers and balances as the
// fault-free run of the same stream.
import type { CommandStatus, TransferSpec } from '@shardledger/ledger-core';
import type { SimNetwork } from './sim-network.js';
import type { OpState } from './sim-scheduler.js';
import type { SimWorkload } from './sim-workload.js';

/** What a finished run left: each call's answers and every account's posted counters. */
export interface SimOutcome {
  /** Per call, per transfer: 'ok' for ok or exists (the same thing to the caller), else the code. */
  readonly answers: readonly (readonly string[])[];
  readonly balances: ReadonlyMap<string, { debitsPosted: bigint; creditsPosted: bigint }>;
}

function answerClass(status: CommandStatus | undefined): string {
  return status === 'exists' ? 'ok' : String(status);
}

/** Checks one finished run against itself; returns its outcome and pushes what failed. */
export async function checkRun(
  network: SimNetwork,
  workload: SimWorkload,
  ops: readonly OpState[],
  problems: string[],
): Promise<SimOutcome> {
  const totals = new Map<string, { debits: bigint; credits: bigint; pending: bigint }>();
  for (let shard = 0; shard < network.shardCount; shard += 1) {
    const engine = network.engine(shard);
    const open = await engine.openReservations();
    if (open.length > 0)
      problems.push(
        `shard ${shard}: ${open.length} reservation(s) left open, e.g. saga ${open[0]?.sagaId}`,
      );
    const report = await engine.verify();
    if (!report.ok)
      problems.push(
        `shard ${shard}: verify failed: ${JSON.stringify(report.violations.slice(0, 3), (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value))}`,
      );
  }
  // What the clients were told, per transfer id: acknowledged by some answer, or refused.
  const acknowledged = new Map<string, TransferSpec>();
  const refused = new Map<string, TransferSpec>();
  for (const state of ops) {
    state.op.transfers.forEach((transfer, index) => {
      if (state.acknowledged[index] === true) acknowledged.set(transfer.id, transfer);
      else refused.set(transfer.id, transfer);
    });
  }
  for (const id of acknowledged.keys()) refused.delete(id);
  const expected = new Map<string, { debitsPosted: bigint; creditsPosted: bigint }>();
  const balances = new Map<string, { debitsPosted: bigint; creditsPosted: bigint }>();
  for (const account of workload.accounts) {
    if (account.role === 'missing') continue;
    expected.set(account.id, { debitsPosted: 0n, creditsPosted: 0n });
  }
  for (const transfer of acknowledged.values()) {
    const debit = expected.get(transfer.debitAccountId);
    const credit = expected.get(transfer.creditAccountId);
    if (debit === undefined || credit === undefined) {
      problems.push(
        `transfer ${transfer.id} was acknowledged but names an account that does not exist`,
      );
      continue;
    }
    debit.debitsPosted += transfer.amount;
    credit.creditsPosted += transfer.amount;
  }
  for (const account of workload.accounts) {
    if (account.role === 'missing') continue;
    const [view] = await network.engine(account.shard).lookupAccounts([account.id]);
    if (view === undefined) {
      problems.push(`account ${account.id} is missing on shard ${account.shard}`);
      continue;
    }
    balances.set(account.id, {
      debitsPosted: view.debitsPosted,
      creditsPosted: view.creditsPosted,
    });
    const sums = totals.get(view.currency) ?? { debits: 0n, credits: 0n, pending: 0n };
    sums.debits += view.debitsPosted;
    sums.credits += view.creditsPosted;
    sums.pending += view.debitsPending + view.creditsPending;
    totals.set(view.currency, sums);
    const want = expected.get(account.id);
    if (
      want !== undefined &&
      (want.debitsPosted !== view.debitsPosted || want.creditsPosted !== view.creditsPosted)
    ) {
      problems.push(
        `account ${account.id}: posted debits ${view.debitsPosted} credits ${view.creditsPosted}, ` +
          `the acknowledged transfers make debits ${want.debitsPosted} credits ${want.creditsPosted}`,
      );
    }
  }
  for (const [currency, sums] of totals) {
    if (sums.debits !== sums.credits)
      problems.push(`${currency}: debits ${sums.debits}, credits ${sums.credits} across shards`);
    if (sums.pending !== 0n)
      problems.push(`${currency}: ${sums.pending} still pending after recovery`);
  }
  await checkRecords(network, workload, acknowledged, refused, problems);
  return { answers: ops.map((state) => state.answers.map(answerClass)), balances };
}

/** Every acknowledged transfer is recorded as posted on its shards; no refused one is there. */
async function checkRecords(
  network: SimNetwork,
  workload: SimWorkload,
  acknowledged: ReadonlyMap<string, TransferSpec>,
  refused: ReadonlyMap<string, TransferSpec>,
  problems: string[],
): Promise<void> {
  const homes = (transfer: TransferSpec): number[] => [
    ...new Set([
      workload.shardOf(transfer.debitAccountId),
      workload.shardOf(transfer.creditAccountId),
    ]),
  ];
  for (const transfer of acknowledged.values()) {
    for (const shard of homes(transfer)) {
      const [record] = await network.engine(shard).lookupTransfers([transfer.id]);
      if (record?.state !== 'posted')
        problems.push(
          `acknowledged transfer ${transfer.id} is ${record?.state ?? 'absent'} on shard ${shard}`,
        );
    }
  }
  for (const transfer of refused.values()) {
    for (const shard of homes(transfer)) {
      const [record] = await network.engine(shard).lookupTransfers([transfer.id]);
      if (record !== undefined)
        problems.push(`refused transfer ${transfer.id} is ${record.state} on shard ${shard}`);
    }
  }
}

/** The faulty run must end as the fault-free run of the same stream did. */
export function compareOutcomes(
  faulty: SimOutcome,
  reference: SimOutcome,
  problems: string[],
): void {
  reference.answers.forEach((answers, op) => {
    answers.forEach((answer, index) => {
      const got = faulty.answers[op]?.[index];
      if (got !== answer)
        problems.push(
          `call ${op} transfer ${index}: answered ${got}, the fault-free run answered ${answer}`,
        );
    });
  });
  for (const [id, want] of reference.balances) {
    const got = faulty.balances.get(id);
    if (got?.debitsPosted !== want.debitsPosted || got.creditsPosted !== want.creditsPosted) {
      problems.push(
        `account ${id}: debits ${got?.debitsPosted} credits ${got?.creditsPosted}, fault-free run: debits ${want.debitsPosted} credits ${want.creditsPosted}`,
      );
    }
  }
}
