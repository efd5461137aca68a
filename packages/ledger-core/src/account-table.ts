// The accounts of a shard by id, in creation (ordinal) order: the map every transfer looks its
// two accounts up in. An open-addressing table of entry numbers with each entry's hash beside
// it, over arrays of ids and accounts, instead of a Map: with a million accounts, Map.get of an
// id cut from a batch (a string never hashed before) cost about 1.2 µs on the 2-core reference
// machine, this about 0.6 µs (a throwaway script: 2,000,000 lookups of random ids); with
// 10,000 accounts the two are even. A Map follows a bucket, then a chain of entries; here a
// lookup reads one slot, holding the entry's hash, and compares ids only when the hashes agree.
//
// The hash is seeded per process, so that ids chosen to collide in one process do not collide
// in another (V8 seeds its own string hashes for the same reason). The seed decides only where
// an entry sits in the slots, never what a lookup or an iteration gives: the domain's state stays
// deterministic, which is why this file lives outside domain/ (whose sources may use no
// randomness and no Math). Accounts are never removed; `set` of an id already here replaces its account in
// place (a status change), as Map.set does, and iteration is in creation order, as a Map's is.

import { randomInt } from 'node:crypto';
import { assert } from './assert.js';
import type { AccountState } from './domain/state.js';

const seed = randomInt(0x7fffffff) | 1;
/** The table doubles before it has fewer slots than this per entry: a load of one half at most. */
const slotsPerEntryMin = 2;

/** A string's 32-bit hash: FNV-1a over its UTF-16 code units from the process's seed, then
 * murmur3's finaliser. */
function hashOf(id: string): number {
  let hash = seed;
  for (let index = 0; index < id.length; index += 1)
    hash = Math.imul(hash ^ id.charCodeAt(index), 0x01000193);
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash;
}

export class AccountTable {
  /** Pairs [entry number + 1 (0: empty), hash], linear probing. */
  #slots = new Int32Array(2 * 1024);
  #mask = 1023;
  /** Each entry's id, beside its account though the account holds it too: a lookup then compares
   * ids without reading the account object first. Reading `accounts[entry].id` instead took a
   * lookup from about 0.8 to 1.0-1.2 µs with a million accounts (a throwaway script: 2,000,000
   * lookups of ids cut from a column). */
  readonly #ids: string[] = [];
  readonly #accounts: AccountState[] = [];

  get size(): number {
    return this.#ids.length;
  }

  /** The entry number of `id`, or -1. */
  #find(id: string, hash: number): number {
    const slots = this.#slots;
    const mask = this.#mask;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = slots[2 * slot] as number;
      if (entry === 0) return -1;
      if (slots[2 * slot + 1] === hash && this.#ids[entry - 1] === id) return entry - 1;
    }
  }

  get(id: string): AccountState | undefined {
    const entry = this.#find(id, hashOf(id));
    return entry < 0 ? undefined : this.#accounts[entry];
  }

  has(id: string): boolean {
    return this.#find(id, hashOf(id)) >= 0;
  }

  /** Adds the account of a new id (after every account before it), or replaces the account of
   * an id already here. */
  set(id: string, account: AccountState): this {
    assert(account.id === id, 'an account is kept under its own id');
    const hash = hashOf(id);
    const entry = this.#find(id, hash);
    if (entry >= 0) {
      this.#accounts[entry] = account;
      return this;
    }
    this.#ids.push(id);
    this.#accounts.push(account);
    if (this.#ids.length * slotsPerEntryMin > this.#mask + 1) this.#grow();
    else this.#place(this.#ids.length, hash);
    return this;
  }

  /** Puts entry number `entry` (from 1) into the first free slot of its probe sequence. */
  #place(entry: number, hash: number): void {
    const slots = this.#slots;
    let slot = hash & this.#mask;
    while (slots[2 * slot] !== 0) slot = (slot + 1) & this.#mask;
    slots[2 * slot] = entry;
    slots[2 * slot + 1] = hash;
  }

  /** Doubles the slots and places every entry again. */
  #grow(): void {
    const capacity = 2 * (this.#mask + 1);
    this.#slots = new Int32Array(2 * capacity);
    this.#mask = capacity - 1;
    this.#ids.forEach((id, index) => this.#place(index + 1, hashOf(id)));
  }

  /** The accounts, in creation order (live: accounts added meanwhile come too). */
  values(): IterableIterator<AccountState> {
    return this.#accounts.values();
  }

  /** The ids, in creation order. */
  keys(): IterableIterator<string> {
    return this.#ids.values();
  }

  /** [id, account] pairs, in creation order. */
  *entries(): IterableIterator<[string, AccountState]> {
    for (let entry = 0; entry < this.#ids.length; entry += 1)
      yield [this.#ids[entry] as string, this.#accounts[entry] as AccountState];
  }

  [Symbol.iterator](): IterableIterator<[string, AccountState]> {
    return this.entries();
  }
}
