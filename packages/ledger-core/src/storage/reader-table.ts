// LMDB's reader table, as lmdb-js lists it: which processes have an environment open. Used by
// the router's dir lock and by a shard's open (writer-fence.ts) to find a live other process.

/** The pids of lmdb-js's reader table listing: a header line, then `pid thread txnid` lines. */
export function readerPids(listing: string): ReadonlySet<number> {
  const pids = new Set<number>();
  for (const line of listing.split('\n')) {
    const match = /^\s*(\d+)\s+[0-9a-f]+\s+(-|\d+)\s*$/.exec(line);
    if (match?.[1] !== undefined) pids.add(Number(match[1]));
  }
  return pids;
}
