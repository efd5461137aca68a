// @shardledger/shard-router (work in progress)
export const packageName = '@shardledger/shard-router';
