// The msgpackr setup of the event log's records (event-record.ts) and of the command and result
// batches between threads (batch-codec.ts). One instance for both, because the options are part of
// the format: plain maps (no record structures, whose definitions would have to travel with
// every value), the bigint extension so that amounts above 2^53 stay exact, typed arrays kept
// typed (moreTypes), and no structured clone.
//
// Snapshots (snapshot-store.ts) use a Packr of their own with other options: their format is
// separate and fixed.

import { Packr } from 'msgpackr';

export const packr = new Packr({
  useRecords: false,
  useBigIntExtension: true,
  moreTypes: true,
  structuredClone: false,
});
