// `@shardledger/shard-router/testing`: the failpoints that crash and fault tests arm in this
// process (the `failpoints` option of Ledger.open arms them in every shard worker).
export {
  failpointNames,
  armFailpoint,
  disarmAllFailpoints,
  type FailpointOptions,
} from './failpoints.js';
