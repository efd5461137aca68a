// @shardledger/bench (work in progress)
export const packageName = '@shardledger/bench';
