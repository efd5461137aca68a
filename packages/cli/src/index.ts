// @shardledger/cli (work in progress)
export const packageName = '@shardledger/cli';
