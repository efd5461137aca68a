// The timer that expires pending transfers when no call comes: armed after every commit (and
// on open) for the earliest deadline of an open pending transfer.

/** The shard a timer serves. */
export interface ExpiringShard {
  /** The earliest deadline of an open pending transfer (ns since the epoch); null when there is
   * none or the shard is closed. */
  nextDeadline(): bigint | null;
  /** Whether the shard still takes writes (not closed, not failed). */
  writable(): boolean;
  /** Applies the expiries that are due (an empty submit). */
  expireDue(): Promise<unknown>;
}

export class ExpiryTimer {
  private timer: NodeJS.Timeout | null = null;
  private readonly shard: ExpiringShard;
  private readonly clock: () => bigint;

  constructor(shard: ExpiringShard, clock: () => bigint) {
    this.shard = shard;
    this.clock = clock;
  }

  /** (Re-)arms the timer for the shard's next deadline; disarms it when there is none. */
  arm(): void {
    this.cancel();
    const dueAt = this.shard.nextDeadline();
    if (dueAt === null || !this.shard.writable()) return;
    const delayMs = Number((dueAt - this.clock()) / 1_000_000n) + 1;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        if (!this.shard.writable()) return;
        // Re-arm afterwards: a timer can fire before the deadline (setTimeout clamps delays to
        // 2^31-1 ms, ~24.8 days, below timeoutMsMax), and then no commit would re-arm it.
        this.shard.expireDue().then(
          () => {
            if (this.timer === null) this.arm();
          },
          () => {
            // Expiry is retried on the next call or timer.
          },
        );
      },
      Math.min(Math.max(delayMs, 0), 2 ** 31 - 1),
    );
    this.timer.unref();
  }

  cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
