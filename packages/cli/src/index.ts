// @shardledger/cli: the `shardledger` command (bin: dist/main.js). The library surface is small:
// the exit codes and the amount helpers, for scripts and tools that wrap the CLI.
export { exitCodes, exitCodeTable, exitCodeOf, exitCodeOfStatus, type ExitCode } from './errors.js';
export { currencyScales, defaultScale, scaleOf, parseAmountText, formatMajor } from './format.js';
