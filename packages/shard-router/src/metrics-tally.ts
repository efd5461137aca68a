// The counts an open Ledger keeps on its write path for metrics: plain integers added once per
// call (the transfer results of a call are tallied in one loop), so they cost next to nothing
// whether or not an application exports metrics. Ledger.metrics() reads them; the OpenTelemetry
// instruments (metrics-otel.ts) report what it reads.

/** Transfer results since the Ledger opened, by outcome: applied, already there (a retry of an
 * id), or refused with any rejection code. */
export interface TransferCounts {
  readonly ok: number;
  readonly exists: number;
  readonly rejected: number;
}

/** Cross-shard sagas finished since the Ledger opened (on open too, for those a crash left). */
export interface SagaCounts {
  readonly committed: number;
  readonly released: number;
}

export class TransferTally implements TransferCounts {
  ok = 0;
  exists = 0;
  rejected = 0;

  /** Adds one call's results. */
  add(results: readonly { readonly status: string }[]): void {
    let ok = 0;
    let exists = 0;
    for (const result of results) {
      if (result.status === 'ok') ok += 1;
      else if (result.status === 'exists') exists += 1;
    }
    this.ok += ok;
    this.exists += exists;
    this.rejected += results.length - ok - exists;
  }
}

export class SagaTally implements SagaCounts {
  committed = 0;
  released = 0;

  add(outcome: { committed: number; released: number }): void {
    this.committed += outcome.committed;
    this.released += outcome.released;
  }
}
