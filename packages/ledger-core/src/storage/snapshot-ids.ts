// The id filters a snapshot keeps: the transfer-id and saga-id KnownIds of the shard at the cut,
// so that an open from the snapshot makes them again from a few bytes per id instead of reading
// every key of the id and saga indexes (a million transfers: 2 MB of filter against more than
// 100 MB of index pages). The replay after the snapshot notes the ids of the events it reads.
//
// The filters are not copied while writes wait: the cut takes each layer's words as they are, and
// the body reads them while it is encoded, a layer per turn of the event loop. A filter's bits are
// only ever set, so the words read then answer for every id of the cut, and maybe for ids of
// events after it (staged, or never made durable): a filter that holds more ids than the index
// answers "maybe" more often, never "new" for a stored id, so it stays safe.
//
// Stored as values at the end of the snapshot body (snapshot-cut.ts): per filter a head
// { idFilter, max, fastPath, layers }, then one value per layer { capacity, count, words } or, for a
// layer with few blocks set, { capacity, count, blocks, words } with the numbers of the blocks set
// and only their words (a young ledger's first layer is 2 MB, nearly all zero).

import { assert } from '../assert.js';
import { aligned, bytesOf } from './account-columns.js';
import { filterLayerBlocks } from './id-filter.js';
import type { KnownIdsImage } from './known-ids.js';

/** The filters a snapshot keeps. */
export interface SnapshotIds {
  readonly transfers: KnownIdsImage;
  readonly sagas: KnownIdsImage;
}

const names = ['transfers', 'sagas'] as const;
const WORDS_PER_BLOCK = 8;

interface StoredHead {
  readonly idFilter: (typeof names)[number];
  readonly max: string;
  readonly fastPath: boolean;
  readonly layers: number;
}

interface StoredLayer {
  readonly capacity: number;
  readonly count: number;
  /** The numbers of the blocks set, as Uint32Array bytes; absent when `words` holds them all. */
  readonly blocks?: Uint8Array;
  readonly words: Uint8Array;
}

function storedLayer(words: Uint32Array, capacity: number, count: number): StoredLayer {
  const blockCount = words.length / WORDS_PER_BLOCK;
  const set: number[] = [];
  for (let block = 0; block < blockCount; block += 1) {
    const base = block * WORDS_PER_BLOCK;
    for (let word = base; word < base + WORDS_PER_BLOCK; word += 1) {
      if (words[word] !== 0) {
        set.push(block);
        break;
      }
    }
  }
  // Sparse costs a block number (one word) on top of each block's eight.
  if (set.length * (WORDS_PER_BLOCK + 1) >= words.length)
    return { capacity, count, words: bytesOf(words) };
  const setWords = new Uint32Array(set.length * WORDS_PER_BLOCK);
  set.forEach((block, index) =>
    setWords.set(
      words.subarray(block * WORDS_PER_BLOCK, (block + 1) * WORDS_PER_BLOCK),
      index * WORDS_PER_BLOCK,
    ),
  );
  return { capacity, count, blocks: bytesOf(Uint32Array.from(set)), words: bytesOf(setWords) };
}

/** The values that keep `ids` at the end of a snapshot body. */
export function* snapshotIdValues(ids: SnapshotIds): Generator<unknown> {
  for (const name of names) {
    const { max, fastPath, filter } = ids[name];
    yield { idFilter: name, max, fastPath, layers: filter.layers.length } satisfies StoredHead;
    for (let index = 0; index < filter.layers.length; index += 1)
      yield storedLayer(
        filter.layers[index] as Uint32Array,
        filter.capacities[index] as number,
        filter.counts[index] as number,
      );
  }
}

/** Whether a value of a snapshot body starts its id filters (snapshotIdValues). */
export function isSnapshotIdsHead(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && 'idFilter' in value
  );
}

function layerWords(stored: StoredLayer, blockCount: number): Uint32Array {
  const words = new Uint32Array(blockCount * WORDS_PER_BLOCK);
  const given = aligned(stored.words, stored.words.byteLength / 4, 4, Uint32Array);
  if (stored.blocks === undefined) {
    assert(given.length === words.length, 'a dense filter layer holds every block');
    words.set(given);
    return words;
  }
  const blocks = aligned(stored.blocks, stored.blocks.byteLength / 4, 4, Uint32Array);
  assert(given.length === blocks.length * WORDS_PER_BLOCK, 'a sparse layer: eight words a block');
  blocks.forEach((block, index) => {
    assert(block < blockCount, 'a block of the layer');
    words.set(
      given.subarray(index * WORDS_PER_BLOCK, (index + 1) * WORDS_PER_BLOCK),
      block * WORDS_PER_BLOCK,
    );
  });
  return words;
}

/** The filters kept by `values` (a snapshot body's values from its first id-filter head on). */
export function decodeSnapshotIds(values: readonly unknown[]): SnapshotIds {
  const found = new Map<string, KnownIdsImage>();
  let at = 0;
  while (at < values.length) {
    const head = values[at++] as StoredHead;
    assert(isSnapshotIdsHead(head) && names.includes(head.idFilter), 'an id filter head');
    assert(!found.has(head.idFilter), 'each id filter once');
    const layers: Uint32Array[] = [];
    const capacities: number[] = [];
    const counts: number[] = [];
    for (let index = 0; index < head.layers; index += 1) {
      const stored = values[at++] as StoredLayer;
      assert(stored !== undefined && stored.words instanceof Uint8Array, 'an id filter layer');
      layers.push(layerWords(stored, filterLayerBlocks(stored.capacity)));
      capacities.push(stored.capacity);
      counts.push(stored.count);
    }
    found.set(head.idFilter, {
      max: head.max,
      fastPath: head.fastPath,
      filter: { layers, capacities, counts },
    });
  }
  const transfers = found.get('transfers');
  const sagas = found.get('sagas');
  assert(transfers !== undefined && sagas !== undefined, 'a snapshot keeps both id filters');
  return { transfers, sagas };
}
