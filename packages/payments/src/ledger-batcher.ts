// The ledger calls of concurrent payments, joined: the accounts to create, the holds, posts, voids and reversals asked
// for in one turn of the event loop go to the ledger as one call of each kind (createAccounts, createTransfers,
// postPendingTransfers, voidPendingTransfers), the way tigerbeetle-node batches a client's
// requests. Each caller gets its own results, in its own order. A call that rejects rejects
// every caller of its batch; each then replays its step with the same transfer ids (the retry
// queue, or recovery at the next start), and the ledger answers `exists` for what was applied.
import { limits } from '@shardledger/ledger-core';
import { assert } from '@shardledger/ledger-core/internals';
import type {
  AccountInput,
  AccountResult,
  Ledger,
  PostPendingInput,
  TransferInput,
  TransferResult,
  VoidPendingInput,
} from '@shardledger/shard-router';

interface Waiting<T, R> {
  readonly inputs: readonly T[];
  readonly resolve: (results: R[]) => void;
  readonly reject: (error: unknown) => void;
}

/** One kind of call: a queue flushed once per turn, or sooner when a batch would overflow. */
class Lane<T, R = TransferResult> {
  readonly #send: (inputs: T[]) => Promise<R[]>;
  #waiting: Waiting<T, R>[] = [];
  #queuedCount = 0;
  #scheduled = false;

  constructor(send: (inputs: T[]) => Promise<R[]>) {
    this.#send = send;
  }

  call(inputs: readonly T[]): Promise<R[]> {
    if (inputs.length === 0) return Promise.resolve([]);
    assert(inputs.length <= limits.batchSizeMax, 'a step fits in one ledger call');
    if (this.#queuedCount + inputs.length > limits.batchSizeMax) this.flush();
    const result = new Promise<R[]>((resolve, reject) => {
      this.#waiting.push({ inputs, resolve, reject });
    });
    this.#queuedCount += inputs.length;
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
    return result;
  }

  flush(): void {
    this.#scheduled = false;
    const waiting = this.#waiting;
    if (waiting.length === 0) return;
    this.#waiting = [];
    this.#queuedCount = 0;
    const inputs = waiting.flatMap((entry) => entry.inputs);
    this.#send(inputs).then(
      (results) => {
        assert(results.length === inputs.length, 'one result per input');
        let offset = 0;
        for (const entry of waiting) {
          entry.resolve(results.slice(offset, offset + entry.inputs.length));
          offset += entry.inputs.length;
        }
      },
      (error: unknown) => {
        for (const entry of waiting) entry.reject(error);
      },
    );
  }
}

export class LedgerBatcher {
  readonly #accounts: Lane<AccountInput, AccountResult>;
  readonly #transfers: Lane<TransferInput>;
  readonly #posts: Lane<PostPendingInput>;
  readonly #voids: Lane<VoidPendingInput>;

  constructor(ledger: Ledger) {
    this.#accounts = new Lane((inputs) => ledger.createAccounts(inputs));
    this.#transfers = new Lane((inputs) => ledger.createTransfers(inputs));
    this.#posts = new Lane((inputs) => ledger.postPendingTransfers(inputs));
    this.#voids = new Lane((inputs) => ledger.voidPendingTransfers(inputs));
  }

  createAccounts(inputs: readonly AccountInput[]): Promise<AccountResult[]> {
    return this.#accounts.call(inputs);
  }

  createTransfers(inputs: readonly TransferInput[]): Promise<TransferResult[]> {
    return this.#transfers.call(inputs);
  }

  postPendingTransfers(inputs: readonly PostPendingInput[]): Promise<TransferResult[]> {
    return this.#posts.call(inputs);
  }

  voidPendingTransfers(inputs: readonly VoidPendingInput[]): Promise<TransferResult[]> {
    return this.#voids.call(inputs);
  }
}
