// @shardledger/cli: the `shardledger` command (bin: dist/main.js). The library surface is small:
// the exit codes and the amount helpers, for scripts and tools that wrap the CLI. Amounts follow
// ledger-core's currency scales (parseAmount, formatAmount, currencyScale).
export { exitCodes, exitCodeTable, exitCodeOf, exitCodeOfStatus, type ExitCode } from './errors.js';
export { moneyOf, parseAmountText, formatMajor, type Money } from './format.js';
