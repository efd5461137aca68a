// The shard count a new ledger gets when the caller names none.
//
// Chosen by measurement: `shardledger bench standard` runs the ledger on 1, 2, 4 and the CPU
// count of shards with what applications send (both accounts of a transfer drawn from all
// accounts, random UUIDv4 ids, strict durability), and reports each count's rate. On every
// machine measured so far one shard was fastest: hashing puts half the pairs of two shards on
// different shards, and a transfer between shards runs as a reserve/commit saga that costs many
// local transfers, more than the second core gives back (docs/benchmarks.md, "Shard count").
// Applications whose transfers mostly stay within one shard, or machines where the bench's sweep
// shows more shards ahead, should pass `shards` when creating the ledger: the count is fixed for
// the life of the data dir.

export const shardCountDefault = 1;
