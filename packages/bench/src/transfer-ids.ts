// Transfer ids as the bench's workloads send them. Payment services mostly send random UUIDv4
// idempotency keys, so that is what the standard scenarios send; `prefixed` puts a fixed prefix
// before them, as services that tag their ids by kind do; UUIDv7 (time-ordered, random tail) and
// the bench's own ordered counter ids are there to show what id order is worth. Every
// kind is deterministic: the same seed and batch give the same ids, so every runner of one run
// sends exactly the same transfers.

import { createPrng } from './prng.js';

export const idKinds = ['uuidv4', 'prefixed', 'uuidv7', 'ordered'] as const;
export type IdKind = (typeof idKinds)[number];

/** What a `prefixed` id puts before its UUIDv4: every id of a run shares it. */
export const idPrefix = 'payment-';

export function isIdKind(value: unknown): value is IdKind {
  return typeof value === 'string' && (idKinds as readonly string[]).includes(value);
}

/** Digits of the counter in an ordered transfer id (orderedIdOf). */
export const counterDigits = 10;

/** The ordered id of transfer number `counter` (0-based) of a run. */
export function orderedIdOf(runId: string, counter: number): string {
  return orderedIdPrefix(runId) + counterText(counter);
}

function orderedIdPrefix(runId: string): string {
  return `t-${runId}-`;
}

/** Transfer number `counter` (0-based) counted from 1, padded to counterDigits. */
function counterText(counter: number): string {
  return String(counter + 1).padStart(counterDigits, '0');
}

/** A seed for the ids of batch `index` that is independent of the batch's pair stream, so that
 * changing the kind of ids changes nothing else. */
function idSeedOf(seed: number, index: number): number {
  let z =
    (Math.imul((seed ^ 0x5bd1e995) >>> 0, 0x27d4eb2d) ^ Math.imul(index + 1, 0x165667b1)) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x2c1b3c6d);
  return (z ^ (z >>> 13)) >>> 0;
}

const hex = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

function hex32(value: number): string {
  return (
    (hex[(value >>> 24) & 0xff] as string) +
    hex[(value >>> 16) & 0xff] +
    hex[(value >>> 8) & 0xff] +
    hex[value & 0xff]
  );
}

/** The 48-bit millisecond field of a run's UUIDv7 ids starts here (2025-01-01), offset by the
 * run id so that two runs never share a timestamp range. */
const uuidv7EpochMs = 1_735_689_600_000;

function runOffsetMs(runId: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < runId.length; index++)
    hash = Math.imul(hash ^ runId.charCodeAt(index), 0x01000193) >>> 0;
  return (hash % 1_000_000) * 1_000_000;
}

export interface BatchIdsSpec {
  readonly kind: IdKind;
  readonly runId: string;
  readonly seed: number;
  /** Index of the batch in its workload. */
  readonly index: number;
  /** Counter of the batch's first transfer in the run. */
  readonly first: number;
  readonly size: number;
}

/** The ids of one batch. */
export function batchIdsOf(spec: BatchIdsSpec): string[] {
  if (spec.kind === 'ordered') return orderedBatchIds(spec.runId, spec.first, spec.size);
  const prng = createPrng(idSeedOf(spec.seed, spec.index));
  const ids = new Array<string>(spec.size);
  const baseMs = uuidv7EpochMs + runOffsetMs(spec.runId);
  for (let item = 0; item < spec.size; item++) {
    const a = prng.nextUint32();
    const b = prng.nextUint32();
    const c = prng.nextUint32();
    const d = prng.nextUint32();
    if (spec.kind === 'uuidv4' || spec.kind === 'prefixed') {
      // 122 random bits; version nibble 4, variant bits 10.
      const x = hex32(a);
      const y = hex32(((b & 0xffff0fff) | 0x00004000) >>> 0);
      const z = hex32(((c & 0x3fffffff) | 0x80000000) >>> 0);
      const uuid = `${x}-${y.slice(0, 4)}-${y.slice(4)}-${z.slice(0, 4)}-${z.slice(4)}${hex32(d)}`;
      ids[item] = spec.kind === 'prefixed' ? idPrefix + uuid : uuid;
    } else {
      // RFC 9562 method 1: a 48-bit millisecond timestamp, then a 12-bit counter in rand_a, so
      // that ids ascend with the counter (4,096 per millisecond), then 62 random bits.
      const counter = spec.first + item;
      const ms = baseMs + Math.floor(counter / 4096);
      const high = Math.floor(ms / 65536);
      const low = ms % 65536;
      const time = hex32(high >>> 0) + (hex[(low >>> 8) & 0xff] as string) + hex[low & 0xff];
      const versioned = (0x7000 | (counter % 4096)).toString(16).padStart(4, '0');
      const z = hex32(((c & 0x3fffffff) | 0x80000000) >>> 0);
      ids[item] =
        `${time.slice(0, 8)}-${time.slice(8)}-${versioned}-${z.slice(0, 4)}-${z.slice(4)}${hex32(d)}`;
    }
  }
  return flatIds(ids);
}

/** Ids per string that a batch's ids are cut from: a string of 128 KB or more goes to V8's
 * large-object space, which costs about ten times as much to create (column-text.ts in the
 * ledger has the figures); 1,024 ids of up to 40 characters stay well below it. */
const idsPerText = 1_024;

/** `ids` (of one length each, 36 or 44 characters) as slices of strings joined from them,
 * idsPerText ids each. A
 * template leaves each id a chain of pieces: it stays alive, copied by each young-generation GC,
 * for as long as its batch is in flight, and the ledger's first look at it (a pattern test) must
 * first copy it into one string. Ids a service receives (parsed from a request) are whole
 * strings already; crypto.randomUUID's are chains too (a pattern test of one costs about 0.3 µs,
 * of a whole string 0.05). */
function flatIds(ids: string[]): string[] {
  for (let from = 0; from < ids.length; from += idsPerText) {
    const to = Math.min(ids.length, from + idsPerText);
    const length = (ids[from] as string).length;
    const text = ids.slice(from, to).join('');
    for (let item = from; item < to; item++)
      ids[item] = text.slice((item - from) * length, (item - from + 1) * length);
  }
  return ids;
}

/** Ordered ids for transfers first .. first + size - 1, cut from strings built for the batch,
 * idsPerText ids each: each id is then one slice of one, instead of the chain of pieces a padded
 * template leaves, which stay alive (and are copied by each young-generation GC) for as long as
 * the batch is in flight. */
function orderedBatchIds(runId: string, first: number, size: number): string[] {
  const prefix = orderedIdPrefix(runId);
  const width = prefix.length + counterDigits;
  const ids = new Array<string>(size);
  for (let from = 0; from < size; from += idsPerText) {
    const to = Math.min(size, from + idsPerText);
    const counters = new Array<string>(to - from);
    for (let item = from; item < to; item++) counters[item - from] = counterText(first + item);
    const text = prefix + counters.join(prefix);
    for (let item = from; item < to; item++)
      ids[item] = text.slice((item - from) * width, (item - from + 1) * width);
  }
  return ids;
}
