// @shardledger/ledger-core: one shard of the ledger, correct, durable and fast on its own.
export * from './errors.js';
export * from './limits.js';
export * from './assert.js';
export * from './domain/index.js';
