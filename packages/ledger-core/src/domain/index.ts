// The pure core: commands, events, state, decide and evolve. Imports nothing with I/O.
export * from './types.js';
export * from './state.js';
export * from './balance.js';
export * from './validate.js';
export * from './decide.js';
export { sameTransfer } from './decision.js';
export * from './evolve.js';
export * from './audit.js';
export * from './records.js';
export * from './plain-transfer.js';
export * from './account-order.js';
export * from './account-decider.js';
